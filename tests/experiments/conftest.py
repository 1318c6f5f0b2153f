"""Synthetic descriptor sets and protocols for the protocol tests."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.types import DescriptorSet, PairProtocol, Provenance


def make_descriptors(n_ids: int = 60, per_id: int = 5, dim: int = 16, seed: int = 0,
                     nuisance: float = 3.0, labels_as_folders: bool = False) -> DescriptorSet:
    """Identities = random means; noise is strong along a few nuisance directions (so whitening helps)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(n_ids, dim))
    scale = np.ones(dim)
    scale[: dim // 4] = nuisance
    rows, labels, ids = [], [], []
    for i in range(n_ids):
        for j in range(per_id):
            rows.append(means[i] + 0.6 * rng.normal(size=dim) * scale)
            labels.append(f"id{i:03d}")
            ids.append(f"id{i:03d}/id{i:03d}_{j + 1:04d}.jpg")
    X = np.asarray(rows, dtype=np.float32)
    return DescriptorSet(X=X, labels=np.array([""] * len(ids)) if labels_as_folders else np.array(labels),
                         ids=np.array(ids), provenance=Provenance(backbone="synthetic"))


def make_protocol(ds: DescriptorSet, n_folds: int = 3, per_fold: int = 20, seed: int = 0,
                  id_range: tuple[int, int] | None = None) -> PairProtocol:
    """Identity-disjoint folds of positive and negative pairs over the first identities of ``ds``."""
    rng = np.random.default_rng(seed)
    labels = np.array([i.split("/")[0] for i in ds.ids])
    names = np.unique(labels)
    lo, hi = id_range or (0, min(names.size, n_folds * 10))
    groups = np.array_split(names[lo:hi], n_folds)
    a, b, y, f = [], [], [], []
    for k, group in enumerate(groups):
        for _ in range(per_fold):
            n = rng.choice(group)
            rows = np.flatnonzero(labels == n)
            i, j = rng.choice(rows, 2, replace=False)
            a.append(ds.ids[i])
            b.append(ds.ids[j])
            y.append(1)
            f.append(k)
            n1, n2 = rng.choice(group, 2, replace=False)
            a.append(ds.ids[rng.choice(np.flatnonzero(labels == n1))])
            b.append(ds.ids[rng.choice(np.flatnonzero(labels == n2))])
            y.append(0)
            f.append(k)
    pair_ids = [f"p{i}" for i in range(len(a))]
    return PairProtocol.from_id_pairs(a, b, labels=y, folds=f, name="synthetic", pair_ids=pair_ids)


@pytest.fixture
def synthetic():
    ds = make_descriptors()
    return ds, make_protocol(ds)


@pytest.fixture
def make_ds():
    return make_descriptors


@pytest.fixture
def make_proto():
    return make_protocol
