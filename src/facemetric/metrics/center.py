"""Cosine after subtracting the training mean ("center")."""

from __future__ import annotations

import numpy as np

from facemetric.metrics.base import l2_normalize
from facemetric.metrics.projection import LinearProjection


class Center(LinearProjection):
    """Cosine similarity of ``l2n(x) - mean``, with ``mean`` the training mean.

    Learns only the mean, so it needs no labels. Descriptors of a face model share a
    common offset; removing it spreads them over the sphere and helps cosine.

    Parameters
    ----------
    normalize : bool, default True
        L2-normalise descriptors before subtracting the mean.
    """

    needs_labels = False
    _parameter_constraints = {"normalize": [bool]}

    def __init__(self, normalize: bool = True) -> None:
        self.normalize = normalize

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        Z = l2_normalize(X) if self.normalize else X
        self.mean_ = Z.mean(axis=0, dtype=np.float64).astype(np.float32)

    def _project(self, Z: np.ndarray) -> np.ndarray:
        return Z - self.mean_
