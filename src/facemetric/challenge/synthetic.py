"""Small synthetic contests (Gaussian identities) for tests, benchmarks and trying the server."""

from __future__ import annotations

import itertools

import numpy as np

from facemetric.types import DescriptorSet, PairProtocol


def synthetic_people(
    n_people: int, per_person: int, dim: int, *, noise: float, rng: np.random.Generator, prefix: str
) -> DescriptorSet:
    """``per_person`` noisy copies of a random centre for each of ``n_people`` identities."""
    centres = rng.standard_normal((n_people, dim))
    labels = np.repeat([f"{prefix}{i:04d}" for i in range(n_people)], per_person)
    X = np.repeat(centres, per_person, axis=0) + noise * rng.standard_normal((n_people * per_person, dim))
    X_flip = X + 0.1 * noise * rng.standard_normal(X.shape)
    ids = np.array([f"{lab}/{lab}_{k % per_person + 1:04d}.jpg" for k, lab in enumerate(labels)])
    return DescriptorSet(X=X.astype(np.float32), X_flip=X_flip.astype(np.float32), labels=labels, ids=ids)


def synthetic_contest_data(
    *,
    n_train_people: int = 40,
    n_test_people: int = 20,
    per_person: int = 6,
    dim: int = 16,
    n_pairs: int = 300,
    noise: float = 1.2,
    seed: int = 0,
) -> tuple[DescriptorSet, DescriptorSet, PairProtocol]:
    """(train, test, labelled protocol) with disjoint identities; half the pairs are same-person."""
    rng = np.random.default_rng(seed)
    train = synthetic_people(n_train_people, per_person, dim, noise=noise, rng=rng, prefix="train_")
    test = synthetic_people(n_test_people, per_person, dim, noise=noise, rng=rng, prefix="test_")
    n_same = n_pairs // 2
    same = [
        (p * per_person + i, p * per_person + j)
        for p in range(n_test_people)
        for i, j in itertools.combinations(range(per_person), 2)
    ]
    if n_same > len(same):
        raise ValueError(
            f"{n_test_people} people x {per_person} images give only {len(same)} same-person pairs"
        )
    same = [same[k] for k in rng.choice(len(same), n_same, replace=False)]
    diff = set()
    while len(diff) < n_pairs - n_same:
        i, j = (int(v) for v in rng.integers(0, len(test), 2))
        if test.labels[i] != test.labels[j]:
            diff.add((min(i, j), max(i, j)))
    pairs = np.array(same + sorted(diff))
    labels = np.r_[np.ones(n_same, np.int8), np.zeros(len(diff), np.int8)]
    protocol = PairProtocol.from_id_pairs(
        test.ids[pairs[:, 0]], test.ids[pairs[:, 1]], labels=labels, name="synthetic"
    )
    return train, test, protocol
