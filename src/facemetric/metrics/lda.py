"""Linear discriminant analysis, scored with cosine in the discriminant space ("lda")."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from facemetric.constraints import Interval
from facemetric.metrics._stats import (
    capped,
    class_means,
    drop_small_identities,
    encode_labels,
    shrink,
    within_class_scatter,
)
from facemetric.metrics.base import l2_normalize
from facemetric.metrics.projection import LinearProjection


def fit_lda(
    Z: np.ndarray, y: np.ndarray, n_components: int | None, shrinkage: float, whiten: bool, owner: str = "LDA"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(mean (D,), W (D, k), eigenvalues (k,))`` of LDA on rows ``Z`` with labels ``y``.

    ``W`` solves ``S_b w = lambda (S_w + shrinkage) w``; with ``whiten`` its columns make the
    within-class covariance the identity, otherwise they have unit length.
    """
    names, codes = encode_labels(y)
    n, d = Z.shape
    means, counts = class_means(Z, codes, names.size)
    mean = (counts @ means) / n
    Sw = within_class_scatter(Z, codes, means) / n
    Dm = (means - mean) * np.sqrt(counts)[:, None]
    Sb = Dm.T @ Dm / n
    Sw = shrink(Sw, shrinkage) + (1e-9 * np.trace(Sw) / d + 1e-10) * np.eye(d)
    evals, evecs = scipy.linalg.eigh(Sb, Sw)
    order = np.argsort(evals)[::-1]
    k = capped(owner, "n_components", n_components, min(d, names.size - 1),
               f"discriminant directions: min(dimension {d}, identities - 1 = {names.size - 1})")
    evals, W = evals[order][:k], evecs[:, order][:, :k]
    if not whiten:
        W = W / np.linalg.norm(W, axis=0, keepdims=True)
    return mean, W, evals


class LDA(LinearProjection):
    """Cosine after the LDA projection ``z = (l2n(x) - mean) @ W``.

    ``W`` maximises between-identity over within-identity variance: the top solutions of
    ``S_b w = lambda S_w w``, at most ``n_identities - 1`` of them. The within-class
    covariance is shrunk towards a multiple of the identity to stay invertible.
    Identities with one image are dropped (with a :class:`SingletonIdentityWarning`).

    Parameters
    ----------
    n_components : int or None, default None
        Dimensions kept (``None``: ``min(dim, n_identities - 1)``).
    shrinkage : float in [0, 1], default 0.3
        ``S_w <- (1 - a) S_w + a * mean(diag S_w) * I``.
    whiten : bool, default True
        Scale the axes so that the within-class covariance becomes the identity.
    normalize : bool, default True
        L2-normalise descriptors first.
    """

    min_features = 2
    _parameter_constraints = {
        "n_components": [None, Interval("int", 1)],
        "shrinkage": [Interval("float", 0, 1)],
    }

    def __init__(
        self,
        n_components: int | None = None,
        shrinkage: float = 0.3,
        whiten: bool = True,
        normalize: bool = True,
    ) -> None:
        self.n_components = n_components
        self.shrinkage = shrinkage
        self.whiten = whiten
        self.normalize = normalize

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        Z = l2_normalize(X) if self.normalize else X
        Z, y = drop_small_identities(Z, y, type(self).__name__)
        mean, W, evals = fit_lda(Z, y, self.n_components, float(self.shrinkage), bool(self.whiten))
        self.mean_ = mean.astype(np.float32)
        self.components_ = W.T.astype(np.float32)  # (k, d)
        self.eigenvalues_ = evals
