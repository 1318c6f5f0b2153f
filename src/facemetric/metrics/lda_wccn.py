"""LDA, length normalisation, then WCCN, scored with cosine ("lda-wccn")."""

from __future__ import annotations

import numpy as np

from facemetric.constraints import Interval
from facemetric.metrics._stats import drop_small_identities, project
from facemetric.metrics.base import l2_normalize
from facemetric.metrics.lda import fit_lda
from facemetric.metrics.projection import LinearProjection
from facemetric.metrics.wccn import fit_wccn


class LDAWCCN(LinearProjection):
    """The i-vector recipe: ``u = l2n((l2n(x) - mean) @ W_lda)``, then ``z = B^T (u - mean_u)``, cosine.

    LDA (unit-length axes, not whitened) keeps the discriminant directions; WCCN, fitted on
    the length-normalised LDA outputs, then normalises what within-class variation remains.
    Identities with one image are dropped (with a :class:`SingletonIdentityWarning`).

    Parameters
    ----------
    n_components : int or None, default None
        LDA dimensions (``None``: ``min(dim, n_identities - 1)``).
    shrinkage : float in [0, 1], default 0.3
        Shrinkage of the within-class covariance, in both LDA and WCCN.
    normalize : bool, default True
        L2-normalise descriptors first.
    """

    min_features = 2
    _parameter_constraints = {"n_components": [None, Interval("int", 1)], "shrinkage": [Interval("float", 0, 1)]}

    def __init__(
        self, n_components: int | None = None, shrinkage: float = 0.3, normalize: bool = True
    ) -> None:
        self.n_components = n_components
        self.shrinkage = shrinkage
        self.normalize = normalize

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        Z = l2_normalize(X) if self.normalize else X
        Z, y = drop_small_identities(Z, y, type(self).__name__)
        mean, W, _ = fit_lda(Z, y, self.n_components, float(self.shrinkage), whiten=False,
                           owner=type(self).__name__)
        self.mean_ = mean.astype(np.float32)
        self.lda_components_ = W.T.astype(np.float32)  # (k, d)
        U = project(Z, mean, W)  # by chunks: no N x D temporaries beyond U itself
        U /= np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)
        self.lda_mean_ = U.mean(axis=0, dtype=np.float64).astype(np.float32)
        U -= self.lda_mean_
        self.wccn_components_ = fit_wccn(U, y, float(self.shrinkage)).T.astype(np.float32)

    def _project(self, Z: np.ndarray) -> np.ndarray:
        U = l2_normalize((Z - self.mean_) @ self.lda_components_.T)
        return (U - self.lda_mean_) @ self.wccn_components_.T
