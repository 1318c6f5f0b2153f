"""Cosine similarity: the hackathon's strong baseline."""

from __future__ import annotations

import numpy as np

from facemetric.metrics.base import PairMetric, l2_normalize, rowwise_dot


class Cosine(PairMetric):
    """Cosine similarity of raw descriptors. Learns nothing."""

    family = "baselines"
    needs_labels = False
    dot_product_scores = True

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return l2_normalize(X)

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        return rowwise_dot(Za, Zb)
