"""Within-class covariance normalisation, scored with cosine ("wccn")."""

from __future__ import annotations

import numpy as np

from facemetric.constraints import Interval
from facemetric.metrics._stats import drop_small_identities, encode_labels, shrink, within_class_covariance
from facemetric.metrics.base import l2_normalize
from facemetric.metrics.projection import LinearProjection


def fit_wccn(Z: np.ndarray, y: np.ndarray, shrinkage: float, balanced: bool = False) -> np.ndarray:
    """``B`` (D, D) with ``B B^T = S_w^{-1}``: the Cholesky factor of the inverse within-class covariance."""
    names, codes = encode_labels(y)
    d = Z.shape[1]
    Sw = within_class_covariance(Z, codes, names.size, balanced)
    Sw = shrink(Sw, shrinkage) + (1e-9 * np.trace(Sw) / d + 1e-10) * np.eye(d)
    return np.linalg.cholesky(np.linalg.inv(Sw))


class WCCN(LinearProjection):
    """Cosine after ``z = B^T (l2n(x) - mean)`` with ``B B^T = S_w^{-1}`` (Hatch et al. 2006).

    It damps the directions in which images of one person vary most (pose, expression,
    lighting). The within-class covariance is shrunk towards a multiple of the identity.
    Identities with one image are dropped (with a :class:`SingletonIdentityWarning`).

    Parameters
    ----------
    shrinkage : float in [0, 1], default 0.3
        ``S_w <- (1 - a) S_w + a * mean(diag S_w) * I``.
    balanced : bool, default True
        Weight every identity equally in ``S_w`` (instead of every image).
    center : bool, default True
        Subtract the training mean before projecting.
    normalize : bool, default True
        L2-normalise descriptors first.
    """

    min_features = 2
    _parameter_constraints = {"shrinkage": [Interval("float", 0, 1)]}

    def __init__(
        self, shrinkage: float = 0.3, balanced: bool = True, center: bool = True, normalize: bool = True
    ) -> None:
        self.shrinkage = shrinkage
        self.balanced = balanced
        self.center = center
        self.normalize = normalize

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        Z = l2_normalize(X) if self.normalize else X
        mean = Z.mean(axis=0, dtype=np.float64) if self.center else np.zeros(Z.shape[1])
        Z, y = drop_small_identities(Z, y, type(self).__name__)
        self.mean_ = mean.astype(np.float32)
        B = fit_wccn(Z, y, float(self.shrinkage), bool(self.balanced))
        self.components_ = B.T.astype(np.float32)
