"""Small synthetic face-descriptor sets: identity centres plus within-identity noise."""

from __future__ import annotations

import numpy as np


def make_identities(n_ids=50, per_id=5, dim=16, noise=0.6, offset=2.0, seed=0, anisotropic=True):
    """(X float32, y str) with a common offset and within-identity noise stronger along a few axes."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_ids, dim))
    y = np.repeat(np.arange(n_ids), per_id)
    scale = np.ones(dim)
    if anisotropic:
        scale[: dim // 4] = 3.0  # "pose" directions: large within-identity variation
    X = centres[y] + noise * rng.standard_normal((y.size, dim)) * scale + offset
    return X.astype(np.float32), np.array([f"id{k:03d}" for k in y])


def all_pairs(y):
    ia, ib = np.triu_indices(len(y), 1)
    return ia, ib, (y[ia] == y[ib]).astype(int)
