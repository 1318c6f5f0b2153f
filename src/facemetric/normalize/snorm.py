"""S-norm: the mean of Z-norm and T-norm, symmetric in the two descriptors of a pair."""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.normalize.cohort_norm import CohortNorm


class SNorm(CohortNorm):
    """``(z(a) + z(b)) / 2`` with ``z(x) = (s(a, b) - mean_c s(x, c)) / std_c s(x, c)``.

    ``metric``: the wrapped metric spec, fitted on the same training data; ``cohort_size``
    descriptors are drawn with ``seed`` (one per identity first).
    """

    def __init__(self, metric: Any = "cosine", *, cohort_size: int = 2000, seed: int = 0) -> None:
        self.metric = metric
        self.cohort_size = cohort_size
        self.seed = seed

    def combine(self, raw: np.ndarray, stats_a: np.ndarray, stats_b: np.ndarray) -> np.ndarray:
        return 0.5 * (self.standardise(raw, stats_a) + self.standardise(raw, stats_b))
