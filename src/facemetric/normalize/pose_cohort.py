"""``pose-norm``: adaptive symmetric score normalisation against pose-matched cohorts (inductive).

AS-norm standardises a score ``s(a, b)`` by the statistics of each side's highest scores
against a cohort of training photos. With pose, the right cohort for side ``a`` is one posed
like the *other* side ``b``: ``s(a, b)`` is a comparison of ``a`` with a photo at ``b``'s yaw,
so ``a``'s impostor scores against photos at that yaw are the reference. The cohort (drawn as
for AS-norm) is cut into ``n_bins`` bins of equal size by ``|yaw|``; for each descriptor the
mean and standard deviation of its ``top_k`` highest scores against every bin are computed
once; a pair is scored

    ( (s - mu_bin(b)(a)) / sd_bin(b)(a) + (s - mu_bin(a)(b)) / sd_bin(a)(b) ) / 2

A photo of unknown yaw, or a cohort without yaw, uses the whole cohort: that is AS-norm.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.constraints import Interval
from facemetric.metrics.base import PairMetric
from facemetric.metrics.pose_aware import PoseAwareMixin
from facemetric.normalize.cohort import draw_cohort
from facemetric.normalize.cohort_norm import STD_FLOOR
from facemetric.normalize.wrapped import build_metric


class PoseCohortNorm(PoseAwareMixin, PairMetric):
    """AS-norm of ``metric`` with pose-matched cohorts; see the module docstring."""

    family = "normalisation"
    needs_labels = False
    _parameter_constraints = {"cohort_size": [Interval("int", 2)], "top_k": [Interval("int", 2)],
                              "n_bins": [Interval("int", 1)]}

    def __init__(self, metric: Any = "plda", *, cohort_size: int = 3000, top_k: int = 100, n_bins: int = 3,
                 seed: int = 0) -> None:
        self.metric = metric
        self.cohort_size = cohort_size
        self.top_k = top_k
        self.n_bins = n_bins
        self.seed = seed

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        rows = draw_cohort(y, X.shape[0], self.cohort_size, self.seed)
        metric = build_metric(self.metric)
        metric.fit(X, y)
        self.base_ = metric
        self.cohort_ = np.asarray(metric.prepare(X[rows]))
        yaw = self._fit_yaw
        bins = np.zeros(rows.size, dtype=np.int64)
        self.bin_edges_ = np.zeros(0)
        if yaw is not None and np.isfinite(yaw[rows]).sum() >= 2 * int(self.n_bins):
            t = np.abs(yaw[rows])
            known = np.isfinite(t)
            self.bin_edges_ = np.quantile(t[known], np.linspace(0, 1, int(self.n_bins) + 1)[1:-1])
            bins = np.where(known, np.searchsorted(self.bin_edges_, t, side="right"), -1)
        self.cohort_bins_ = bins

    def _stats(self, S: np.ndarray) -> np.ndarray:
        k = min(int(self.top_k), S.shape[1])
        top = -np.partition(-S, k - 1, axis=1)[:, :k] if k < S.shape[1] else S
        return np.stack([top.mean(axis=1), np.maximum(top.std(axis=1), STD_FLOOR)], axis=1)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Prepared rows, then (mean, std) against the whole cohort, then against each yaw bin."""
        base = self.base_
        Z = np.asarray(base.prepare(X), dtype=np.float64)
        S = base.score_matrix(Z, self.cohort_)
        parts = [Z, self._stats(S)]
        for b in range(self.bin_edges_.size + 1 if self.bin_edges_.size else 0):
            parts.append(self._stats(S[:, self.cohort_bins_ == b]))
        return np.hstack(parts)

    def _split(self, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_stats = 1 + (self.bin_edges_.size + 1 if self.bin_edges_.size else 0)
        return P[:, : -2 * n_stats], P[:, -2 * n_stats:].reshape(P.shape[0], n_stats, 2)

    def _normalise(self, Pa: np.ndarray, Pb: np.ndarray, slot_a: np.ndarray, slot_b: np.ndarray) -> np.ndarray:
        """``slot_a``: which statistics of side ``a`` to use (0: whole cohort, 1 + bin)."""
        Za, Sa = self._split(Pa)
        Zb, Sb = self._split(Pb)
        raw = self.base_.score_prepared(Za, Zb)
        ra, rb = np.arange(Pa.shape[0]), np.arange(Pb.shape[0])
        za = (raw - Sa[ra, slot_a, 0]) / Sa[ra, slot_a, 1]
        zb = (raw - Sb[rb, slot_b, 0]) / Sb[rb, slot_b, 1]
        return 0.5 * (za + zb)

    def score_prepared(self, Pa: np.ndarray, Pb: np.ndarray) -> np.ndarray:
        zero = np.zeros(Pa.shape[0], dtype=np.int64)
        return self._normalise(Pa, Pb, zero, zero)

    def yaw_slots(self, yaw: np.ndarray | None, n: int) -> np.ndarray:
        """The statistics slot matching each photo's yaw (0 where unknown or the cohort has no yaw)."""
        if yaw is None or not self.bin_edges_.size:
            return np.zeros(n, dtype=np.int64)
        t = np.abs(yaw)
        return np.where(np.isfinite(t), 1 + np.searchsorted(self.bin_edges_, np.nan_to_num(t), side="right"), 0)

    def score_prepared_posed(self, Pa: np.ndarray, Pb: np.ndarray, yaw_a: np.ndarray, yaw_b: np.ndarray
                             ) -> np.ndarray:
        n = Pa.shape[0]
        return self._normalise(Pa, Pb, self.yaw_slots(yaw_b, n), self.yaw_slots(yaw_a, n))  # vs the other's pose
