"""The seeded public/private split of the test pairs, stratified by label."""

from __future__ import annotations

import numpy as np

from facemetric.errors import ConfigError, ProtocolError


def stratified_split(labels: np.ndarray, public_fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the public pairs: ``round(public_fraction * n_c)`` pairs of each label ``c``.

    Both splits keep at least one pair of each label, so that every ranking metric is defined.
    """
    labels = np.asarray(labels)
    if not 0.0 < public_fraction < 1.0:
        raise ConfigError(f"public fraction must be strictly between 0 and 1; got {public_fraction}")
    rng = np.random.default_rng(seed)
    public = np.zeros(labels.shape[0], dtype=bool)
    for value in (0, 1):
        rows = np.flatnonzero(labels == value)
        if rows.size < 2:
            raise ProtocolError(
                f"the test pairs have {rows.size} pair(s) with label {value}; need at least 2 of each label "
                "to split them into public and private parts"
            )
        n_public = min(max(int(round(public_fraction * rows.size)), 1), rows.size - 1)
        public[rng.permutation(rows)[:n_public]] = True
    return public
