"""Seeded choice of a score-normalisation cohort among the training descriptors."""

from __future__ import annotations

import numpy as np

from facemetric.errors import ConfigError


def draw_cohort(y: np.ndarray | None, n_rows: int, size: int, seed: int) -> np.ndarray:
    """Row indices of up to ``size`` cohort descriptors, sorted.

    With identity labels, identities are visited in a seeded random order and one random
    image is taken from each, round after round, so the cohort covers as many people as it
    can. Without labels, rows are drawn uniformly.
    """
    if not isinstance(size, (int, np.integer)) or size < 2:
        raise ConfigError(f"The 'cohort_size' parameter must be an integer >= 2. Got {size!r} instead.")
    rng = np.random.default_rng(seed)
    if size >= n_rows:
        return np.arange(n_rows)
    if y is None:
        return np.sort(rng.choice(n_rows, size=size, replace=False))
    _, inverse = np.unique(np.asarray(y), return_inverse=True)
    # rank of each row within its identity (random order), then identity order (random): sort by both
    row_noise = rng.permutation(n_rows)
    order = np.lexsort((row_noise, inverse))
    sorted_ids = inverse[order]
    first = np.concatenate([[0], np.flatnonzero(np.diff(sorted_ids)) + 1])
    rank_in_id = np.arange(n_rows) - np.repeat(first, np.diff(np.concatenate([first, [n_rows]])))
    id_priority = rng.permutation(inverse.max() + 1)[sorted_ids]
    chosen = order[np.lexsort((id_priority, rank_in_id))[:size]]
    return np.sort(chosen)
