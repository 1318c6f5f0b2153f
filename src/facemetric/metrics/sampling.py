"""Seeded identity splits and verification pairs drawn from labelled training descriptors.

Learned stages that need held-out data (early stopping, fusion weights, calibration) split the
training *identities*, never the images, so that no person is on both sides of a split.
"""

from __future__ import annotations

import numpy as np

from facemetric.errors import ConfigError, InputError


def split_identities(y: np.ndarray, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(keep, held)``: ``holdout`` of the identities with 2+ images go to ``held``.

    Identities with a single image always stay in ``keep`` (they give no positive pair).
    """
    if not 0.0 < holdout < 1.0:
        raise ConfigError(f"The 'holdout' fraction must be in (0, 1). Got {holdout!r} instead.")
    y = np.asarray(y)
    names, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    multi = np.flatnonzero(counts >= 2)
    n_held = int(round(holdout * multi.size))
    if n_held < 2 or multi.size - n_held < 1:
        raise InputError(
            f"training descriptors have {multi.size} identities with 2+ images; a held-out split of "
            f"{holdout:.0%} needs at least 2 held-out identities and 1 kept; give more identities "
            "or change the holdout fraction"
        )
    rng = np.random.default_rng(seed)
    held_ids = rng.choice(multi, size=n_held, replace=False)
    held_mask = np.isin(inverse, held_ids)
    return np.flatnonzero(~held_mask), np.flatnonzero(held_mask)


def sample_pairs(y: np.ndarray, n_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n_pairs`` verification pairs, half genuine and half impostor: ``(ia, ib, same)``.

    Identities are drawn uniformly (so a person with hundreds of images does not dominate), then
    images uniformly within each identity; the two images of a genuine pair differ.
    """
    if n_pairs < 2:
        raise ConfigError(f"The 'n_pairs' parameter must be at least 2. Got {n_pairs!r} instead.")
    y = np.asarray(y)
    names, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    multi = np.flatnonzero(counts >= 2)
    if multi.size < 1 or names.size < 2:
        raise InputError(
            f"cannot draw verification pairs from {names.size} identities ({multi.size} with 2+ images); "
            "give at least two identities, one of them with 2+ images"
        )
    rng = np.random.default_rng(seed)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])

    def image_of(ids: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        pick = rng.integers(0, counts[ids]) if offset is None else offset
        return order[starts[ids] + pick]

    n_pos = n_pairs // 2
    n_neg = n_pairs - n_pos
    pos_ids = rng.choice(multi, size=n_pos)
    first = rng.integers(0, counts[pos_ids])
    second = (first + rng.integers(1, counts[pos_ids])) % counts[pos_ids]
    pa, pb = image_of(pos_ids, first), image_of(pos_ids, second)

    na_ids = rng.integers(0, names.size, size=n_neg)
    nb_ids = (na_ids + rng.integers(1, names.size, size=n_neg)) % names.size
    na, nb = image_of(na_ids), image_of(nb_ids)

    ia = np.concatenate([pa, na]).astype(np.int64)
    ib = np.concatenate([pb, nb]).astype(np.int64)
    same = np.concatenate([np.ones(n_pos, np.int8), np.zeros(n_neg, np.int8)])
    return ia, ib, same
