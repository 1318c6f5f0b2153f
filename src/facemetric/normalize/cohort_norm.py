"""The shared machinery of Z-, T-, S- and AS-norm: cohort statistics carried with each descriptor.

``prepare(X)`` appends to each prepared descriptor the mean and standard deviation of its
scores against the cohort (all of them, or the ``top_k`` highest for AS-norm), so that
``score_pairs`` computes them once per image. ``score_prepared`` splits them off again and
combines the raw score with the statistics of the first (Z), second (T) or both (S) sides.
"""

from __future__ import annotations

import numpy as np

from facemetric.errors import ConfigError
from facemetric.metrics.base import PairMetric
from facemetric.normalize.cohort import draw_cohort
from facemetric.normalize.wrapped import WrapperMixin, build_metric

STD_FLOOR = 1e-6


class CohortNorm(WrapperMixin, PairMetric):
    """Base class; subclasses set ``__init__`` and :meth:`combine`."""

    needs_labels = False

    def _top_k(self) -> int | None:
        return None

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        k = self._top_k()
        if k is not None and (not isinstance(k, (int, np.integer)) or k < 2):
            raise ConfigError(f"The 'top_k' parameter must be an integer >= 2. Got {k!r} instead.")
        rows = draw_cohort(y, X.shape[0], self.cohort_size, self.seed)
        metric = build_metric(self.metric)
        if metric.transductive:
            raise ConfigError(f"{type(self).__name__} needs an inductive metric to normalise; wrap it the other "
                              "way round, e.g. test-center with metric={'method': 's-norm'}")
        metric.fit(X, y)
        self._set_inner("base", metric)
        self.cohort_rows_ = rows.astype(np.int64)
        self.cohort_ = np.asarray(metric.prepare(X[rows]))

    def _after_load(self) -> None:
        self._restore_inner("base", self.metric)

    def cohort_stats(self, Z: np.ndarray) -> np.ndarray:
        """(n, 2): mean and std of each prepared row's scores against the cohort (top-k for AS-norm)."""
        S = self._get_inner("base").score_matrix(Z, self.cohort_)
        k = self._top_k()
        if k is not None and k < S.shape[1]:
            S = -np.partition(-S, k - 1, axis=1)[:, :k]
        return np.stack([S.mean(axis=1), np.maximum(S.std(axis=1), STD_FLOOR)], axis=1)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        Z = np.asarray(self._get_inner("base").prepare(X), dtype=np.float64)
        return np.hstack([Z, self.cohort_stats(Z)])

    def raw_score(self, Pa: np.ndarray, Pb: np.ndarray) -> np.ndarray:
        return self._get_inner("base").score_prepared(Pa[:, :-2], Pb[:, :-2])

    def score_prepared(self, Pa: np.ndarray, Pb: np.ndarray) -> np.ndarray:
        return self.combine(self.raw_score(Pa, Pb), Pa[:, -2:], Pb[:, -2:])

    def combine(self, raw: np.ndarray, stats_a: np.ndarray, stats_b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def standardise(raw: np.ndarray, stats: np.ndarray) -> np.ndarray:
        return (raw - stats[:, 0]) / stats[:, 1]
