"""A synthetic face set whose descriptors change with yaw, with known truth (tests and benchmarks of the pose methods).

Each identity has a centre on the sphere; a photo at yaw ``t`` adds ``sin^2(t)`` times a shared
pose direction (so turned photos of different people look alike, as profiles do) and ``sin^2(t)``
times that identity's own way of turning, a vector in a low-rank pose subspace shared by everyone
(plus a little photo noise in it), then isotropic noise. Frontal photos are close to their centre.
"""

from __future__ import annotations

import numpy as np

from facemetric.types import DescriptorSet


def posed_people(n_people: int, per_person: int, *, dim: int = 16, seed: int = 0, min_yaw: float = 35.0,
                 max_yaw: float = 80.0, pose_shift: float = 0.8, pose_scale: float = 1.2, pose_rank: int = 3,
                 noise: float = 0.12, prefix: str = "id", frontal_fraction: float = 0.6) -> DescriptorSet:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_people, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    shared = np.random.default_rng(12345)  # the same pose geometry in every set
    direction = shared.normal(size=dim)
    direction /= np.linalg.norm(direction)
    subspace = np.linalg.qr(shared.normal(size=(dim, pose_rank)))[0]
    turn = rng.normal(size=(n_people, pose_rank))
    labels = np.repeat(np.arange(n_people), per_person)
    n = labels.size
    frontal = rng.random(n) < frontal_fraction
    yaw = np.where(frontal, rng.uniform(-8, 8, n), rng.uniform(min_yaw, max_yaw, n) * rng.choice([-1, 1], n))
    g = np.sin(np.radians(yaw)) ** 2
    pose = turn[labels] + 0.3 * rng.normal(size=(n, pose_rank))
    X = centres[labels] + g[:, None] * (pose_shift * direction + pose_scale * pose @ subspace.T) \
        + noise * rng.normal(size=(n, dim))
    names = np.array([f"{prefix}{i:04d}" for i in labels])
    ids = np.array([f"{nm}/{nm}_{k:04d}.jpg" for k, nm in enumerate(names)])
    return DescriptorSet(X=X.astype(np.float32), labels=names, ids=ids, yaw=yaw)


def cross_pose_pairs(ds: DescriptorSet, n_pairs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frontal-versus-turned pairs, half genuine, half impostor: (ia, ib, same)."""
    rng = np.random.default_rng(seed)
    frontal = np.flatnonzero(np.abs(ds.yaw) < 20)
    turned = np.flatnonzero(np.abs(ds.yaw) >= 20)
    ia, ib, same = [], [], []
    by_label = {lab: turned[ds.labels[turned] == lab] for lab in np.unique(ds.labels[turned])}
    while len(ia) < n_pairs:
        a = int(rng.choice(frontal))
        genuine = len(ia) % 2 == 0
        pool = by_label.get(ds.labels[a], np.array([], dtype=int)) if genuine else turned[ds.labels[turned] != ds.labels[a]]
        if pool.size == 0:
            continue
        ia.append(a)
        ib.append(int(rng.choice(pool)))
        same.append(int(genuine))
    return np.array(ia), np.array(ib), np.array(same)
