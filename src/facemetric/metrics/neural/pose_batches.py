"""Pose-balanced P x K batches: identities photographed in two poses fill half of every batch.

A training set such as LFW is mostly frontal, so random P x K batches rarely put a frontal and a
turned photo of one person side by side, and a pair loss's miner rarely sees the cross-pose
positives that matter on a cross-pose test. Here half of each batch's identities (or all there
are) are people with both frontal and turned photos, and each of them brings ``ceil(K/2)``
turned photos and the rest frontal ones; the other identities bring ``K`` random photos.
"""

from __future__ import annotations

import numpy as np


def pose_balanced_batches(labels: np.ndarray, turned: np.ndarray, n_identities: int, per_identity: int,
                          n_batches: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``n_batches`` row-index batches; ``labels`` are int codes, ``turned`` marks the turned photos."""
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    n_turned = np.bincount(inverse, weights=turned.astype(np.float64), minlength=counts.size)
    multi = np.flatnonzero(counts >= 2)
    mixed = multi[(n_turned[multi] >= 1) & (n_turned[multi] <= counts[multi] - 1)]
    plain = np.setdiff1d(multi, mixed)
    rows_of = [np.flatnonzero(inverse == k) for k in range(counts.size)] if multi.size else []
    take = min(n_identities, multi.size)
    n_mixed = min(mixed.size, take // 2 if plain.size >= take - take // 2 else take - plain.size)
    batches = []
    for _ in range(n_batches):
        rows = []
        for k in rng.choice(mixed, size=n_mixed, replace=False):
            mine = rows_of[k]
            t, f = mine[turned[mine]], mine[~turned[mine]]
            n_t = min(t.size, (per_identity + 1) // 2)
            n_f = min(f.size, max(per_identity - n_t, 1))
            rows += [rng.choice(t, size=n_t, replace=False), rng.choice(f, size=n_f, replace=False)]
        for k in rng.choice(plain, size=take - n_mixed, replace=False):
            mine = rows_of[k]
            rows.append(rng.choice(mine, size=min(per_identity, mine.size), replace=False))
        batches.append(np.concatenate(rows))
    return batches
