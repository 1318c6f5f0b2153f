"""Negative Euclidean distance on raw descriptors: the hackathon's weak baseline."""

from __future__ import annotations

import numpy as np

from facemetric.metrics.base import PairMetric, neg_sq_distances


class L2(PairMetric):
    """``-||a - b||`` on raw (unnormalised) descriptors. Learns nothing."""

    family = "baselines"
    needs_labels = False

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        diff = Za - Zb
        return -np.sqrt(np.einsum("ij,ij->i", diff, diff))

    def score_matrix(self, Za: np.ndarray, Zb: np.ndarray, **_: object) -> np.ndarray:
        return -np.sqrt(-neg_sq_distances(Za, Zb))
