"""T-norm: standardise a score by the cohort scores of the pair's second (test) descriptor."""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.normalize.cohort_norm import CohortNorm


class TNorm(CohortNorm):
    """``(s(a, b) - mean_c s(b, c)) / std_c s(b, c)`` over a cohort ``c`` of training descriptors.

    ``metric``: the wrapped metric spec, fitted on the same training data; ``cohort_size``
    descriptors are drawn with ``seed`` (one per identity first). Asymmetric by design.
    """

    def __init__(self, metric: Any = "cosine", *, cohort_size: int = 2000, seed: int = 0) -> None:
        self.metric = metric
        self.cohort_size = cohort_size
        self.seed = seed

    def combine(self, raw: np.ndarray, stats_a: np.ndarray, stats_b: np.ndarray) -> np.ndarray:
        return self.standardise(raw, stats_b)
