"""The "linear projection + cosine" family: one base, as metric-learn's ``MahalanobisMixin``.

A subclass learns, in ``_fit``, a mean ``mean_`` (D,) and a projection ``components_`` (k, D);
this base prepares ``P(x) = (n(x) - mean_) @ components_.T`` (``n`` = L2 normalisation when
``normalize``) and scores a pair by the cosine of ``P(a)`` and ``P(b)`` (``similarity="cosine"``)
or by ``-||P(a) - P(b)||^2`` (``similarity="euclidean"``, a Mahalanobis distance on ``n(x)``).
Members: center, pca-whiten, lda, wccn, lda-wccn, kissme and the metric-learn adapters.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from facemetric.metrics.base import PairMetric, l2_normalize, neg_sq_distances, rowwise_dot

SIMILARITIES = ("cosine", "euclidean")


class LinearProjection(PairMetric):
    """Base class: score ``P(x) = (n(x) - mean_) @ components_.T`` by cosine or minus squared distance."""

    is_projection = True
    #: "cosine" or "euclidean"; a subclass may make it a hyperparameter.
    similarity: ClassVar[str] = "cosine"
    #: L2-normalise descriptors before projecting; a subclass may make it a hyperparameter.
    normalize: ClassVar[bool] = True

    @property
    def dot_product_scores(self) -> bool:  # type: ignore[override]
        """Cosine scores are dot products of the prepared (unit) rows; Euclidean ones are not."""
        return self.similarity == "cosine"

    def _project(self, Z: np.ndarray) -> np.ndarray:
        """``(Z - mean_) @ components_.T``; a subclass with another linear map overrides this."""
        return (Z - self.mean_) @ self.components_.T

    def prepare(self, X: np.ndarray) -> np.ndarray:
        U = self._project(l2_normalize(X) if self.normalize else X)
        return l2_normalize(U) if self.similarity == "cosine" else U

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        if self.similarity == "cosine":
            return rowwise_dot(Za, Zb)
        diff = Za - Zb
        return -np.einsum("ij,ij->i", diff, diff)

    def score_matrix(self, Za: np.ndarray, Zb: np.ndarray, **kwargs: object) -> np.ndarray:
        return super().score_matrix(Za, Zb) if self.dot_product_scores else neg_sq_distances(Za, Zb)
