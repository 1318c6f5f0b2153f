"""Cohort score normalisation: Z-, T-, S- and AS-norm are one class with a ``kind``.

``prepare(X)`` appends to each prepared descriptor the mean and standard deviation of its
scores against a cohort of training descriptors (all of them, or only the ``top_k`` highest:
the adaptive variant), so that ``score_pairs`` computes them once per image.
``score_prepared`` splits them off again and standardises the raw score ``s(a, b)`` by the
statistics of the first side (``kind="z"``), the second side (``"t"``) or both, averaged (``"s"``).

The four classic names are aliases with the kind fixed, as in speechbrain's score
normalisation switch: ``z-norm`` = :class:`ZNorm`, ``t-norm`` = :class:`TNorm`, ``s-norm`` =
:class:`SNorm` and ``as-norm`` = :class:`ASNorm` (S-norm over the ``top_k`` closest cohort
scores of each side, Matejka et al. 2017, "AS-norm1"); ``cohort-norm`` is the class itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.constraints import Interval, Options
from facemetric.errors import ConfigError
from facemetric.metrics.base import PairMetric
from facemetric.normalize.cohort import draw_cohort
from facemetric.normalize.wrapped import build_metric

STD_FLOOR = 1e-6
KINDS = ("z", "t", "s")


class CohortNorm(PairMetric):
    """``metric``'s score standardised by cohort statistics of one side (z, t) or both (s).

    ``z(x) = (s(a, b) - mean_c s(x, c)) / std_c s(x, c)`` over a cohort ``c`` of ``cohort_size``
    training descriptors drawn with ``seed`` (one per identity first); ``kind="z"`` uses
    ``z(a)``, ``"t"`` uses ``z(b)`` (both asymmetric by design), ``"s"`` uses ``(z(a) + z(b)) / 2``.
    With ``top_k``, the statistics use only the ``top_k`` highest cohort scores of each side
    (adaptive); with ``top_k`` at least the cohort size it is the plain variant. ``metric``, the
    wrapped metric spec, is fitted on the same training data and kept as ``base_``.
    """

    family = "normalisation"
    needs_labels = False
    _parameter_constraints = {
        "kind": [Options(KINDS)],
        "cohort_size": [Interval("int", 2)],
        "top_k": [None, Interval("int", 2)],
    }

    def __init__(self, metric: Any = "cosine", *, kind: str = "s", cohort_size: int = 2000,
                 top_k: int | None = None, seed: int = 0) -> None:
        self.metric = metric
        self.kind = kind
        self.cohort_size = cohort_size
        self.top_k = top_k
        self.seed = seed

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        rows = draw_cohort(y, X.shape[0], self.cohort_size, self.seed)
        metric = build_metric(self.metric)
        if metric.transductive:
            raise ConfigError(f"{type(self).__name__} needs an inductive metric to normalise; wrap it the other "
                              "way round, e.g. test-center with metric={'method': 's-norm'}")
        self.base_ = metric.fit(X, y)
        self.cohort_rows_ = rows.astype(np.int64)
        self.cohort_ = np.asarray(metric.prepare(X[rows]))

    def cohort_stats(self, Z: np.ndarray) -> np.ndarray:
        """(n, 2): mean and std of each prepared row's scores against the cohort (top-k when adaptive)."""
        S = self.base_.score_matrix(Z, self.cohort_)
        k = self.top_k
        if k is not None and k < S.shape[1]:
            S = -np.partition(-S, k - 1, axis=1)[:, :k]
        return np.stack([S.mean(axis=1), np.maximum(S.std(axis=1), STD_FLOOR)], axis=1)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        Z = np.asarray(self.base_.prepare(X), dtype=np.float64)
        return np.hstack([Z, self.cohort_stats(Z)])

    def raw_score(self, Pa: np.ndarray, Pb: np.ndarray) -> np.ndarray:
        return self.base_.score_prepared(Pa[:, :-2], Pb[:, :-2])

    def score_prepared(self, Pa: np.ndarray, Pb: np.ndarray) -> np.ndarray:
        raw, stats_a, stats_b = self.raw_score(Pa, Pb), Pa[:, -2:], Pb[:, -2:]
        if self.kind == "z":
            return self.standardise(raw, stats_a)
        if self.kind == "t":
            return self.standardise(raw, stats_b)
        return 0.5 * (self.standardise(raw, stats_a) + self.standardise(raw, stats_b))

    @staticmethod
    def standardise(raw: np.ndarray, stats: np.ndarray) -> np.ndarray:
        return (raw - stats[:, 0]) / stats[:, 1]


# --- the four classic names: CohortNorm with the kind fixed --------------------------------
class _FixedKind(CohortNorm):
    """A plain (not adaptive) cohort normaliser whose kind the subclass fixes."""

    top_k = None

    def __init__(self, metric: Any = "cosine", *, cohort_size: int = 2000, seed: int = 0) -> None:
        self.metric = metric
        self.cohort_size = cohort_size
        self.seed = seed


class ZNorm(_FixedKind):
    """Z-norm (``kind="z"``): standardise by the cohort scores of the pair's first (enrolment) side."""

    kind = "z"


class TNorm(_FixedKind):
    """T-norm (``kind="t"``): standardise by the cohort scores of the pair's second (test) side."""

    kind = "t"


class SNorm(_FixedKind):
    """S-norm (``kind="s"``): the mean of Z-norm and T-norm, symmetric in the two sides."""

    kind = "s"


class ASNorm(CohortNorm):
    """AS-norm (``kind="s"`` with ``top_k``): S-norm over each side's ``top_k`` closest cohort scores."""

    kind = "s"
    _parameter_constraints = {**CohortNorm._parameter_constraints, "top_k": [Interval("int", 2)]}

    def __init__(self, metric: Any = "cosine", *, cohort_size: int = 2000, top_k: int = 200,
                 seed: int = 0) -> None:
        self.metric = metric
        self.cohort_size = cohort_size
        self.top_k = top_k
        self.seed = seed
