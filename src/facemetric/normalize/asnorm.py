"""AS-norm (adaptive S-norm): S-norm whose statistics use only each side's ``top_k`` closest cohort scores."""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.normalize.cohort_norm import CohortNorm


class ASNorm(CohortNorm):
    """``(z_k(a) + z_k(b)) / 2``; ``z_k(x)`` standardises by the mean and std of the ``top_k`` highest
    scores of ``x`` against the cohort (Matejka et al. 2017, "AS-norm1"). With ``top_k`` at least the
    cohort size it equals S-norm.
    """

    def __init__(self, metric: Any = "cosine", *, cohort_size: int = 2000, top_k: int = 200,
                 seed: int = 0) -> None:
        self.metric = metric
        self.cohort_size = cohort_size
        self.top_k = top_k
        self.seed = seed

    def _top_k(self) -> int | None:
        return self.top_k

    def combine(self, raw: np.ndarray, stats_a: np.ndarray, stats_b: np.ndarray) -> np.ndarray:
        return 0.5 * (self.standardise(raw, stats_a) + self.standardise(raw, stats_b))
