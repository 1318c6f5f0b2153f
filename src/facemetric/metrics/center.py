"""Cosine after subtracting the training mean ("center")."""

from __future__ import annotations

import numpy as np

from facemetric.metrics.base import PairMetric, check_param, l2_normalize, rowwise_dot


class Center(PairMetric):
    """Cosine similarity of ``l2n(x) - mean``, with ``mean`` the training mean.

    Learns only the mean, so it needs no labels. Descriptors of a face model share a
    common offset; removing it spreads them over the sphere and helps cosine.

    Parameters
    ----------
    normalize : bool, default True
        L2-normalise descriptors before subtracting the mean.
    """

    needs_labels = False
    is_projection = True

    def __init__(self, normalize: bool = True) -> None:
        self.normalize = normalize

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        check_param(self, "normalize", self.normalize, isinstance(self.normalize, bool), "a bool")
        Z = l2_normalize(X) if self.normalize else X
        self.mean_ = Z.mean(axis=0, dtype=np.float64).astype(np.float32)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        Z = l2_normalize(X) if self.normalize else X
        return l2_normalize(Z - self.mean_)

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        return rowwise_dot(Za, Zb)
