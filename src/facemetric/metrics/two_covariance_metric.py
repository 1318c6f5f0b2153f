"""What Joint Bayesian and PLDA share: parameters, preprocessing, the EM fit and the projection.

Both model ``x = identity + within-identity variation`` with two Gaussians and score a pair by
the log-likelihood ratio of "same" against "different". After simultaneous diagonalisation the
ratio is ``q(x1) + q(x2) + <u1, u2>`` plus a constant, so ``prepare`` maps each descriptor once
to ``[u * sqrt(c), q]`` and a pair costs one dot product. The subclasses differ only in where
the model mean comes from and in the constant and scale of the score.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from facemetric.constraints import Interval
from facemetric.metrics._stats import pca_basis, project
from facemetric.metrics.base import PairMetric, l2_normalize
from facemetric.metrics.two_covariance import class_stats, diagonalize, fit_two_covariance, pair_llr_terms


class TwoCovarianceMetric(PairMetric):
    """Base of :class:`JointBayesian` and :class:`PLDA`.

    Parameters
    ----------
    n_components : int or None, default None
        PCA dimensions kept before the model (``None``: no reduction).
    n_iter : int, default 10
        Maximum EM iterations (0: the scatter estimates).
    tol : float, default 1e-6
        Stop when the relative gain in log-likelihood falls under this.
    shrinkage : float in [0, 1], default 0.3
        Shrinkage of the within-identity covariance towards ``mean(diag S) I``, applied to
        the closed-form start and after every EM step (0: plain maximum likelihood). The
        between-identity covariance is not shrunk.
    max_per_identity : int or None, default 5
        Identity weighting: an identity with ``n > max_per_identity`` images weighs
        ``max_per_identity / n`` in the likelihood, so that it counts as ``max_per_identity``
        images (web face sets are long-tailed). ``None``: every image weighs 1.
    recenter : bool, default True
        After the L2 normalisation, centre on the training mean and L2-normalise again
        (the "length normalisation" of speaker-recognition PLDA) before the model.
    normalize : bool, default True
        L2-normalise descriptors first.
    """

    family = "probabilistic"
    min_features = 2
    _parameter_constraints = {
        "n_components": [None, Interval("int", 1)],
        "n_iter": [Interval("int", 0)],
        "shrinkage": [Interval("float", 0, 1)],
        "max_per_identity": [None, Interval("int", 1)],
    }
    #: EM estimates the model mean (PLDA) or the data are centred and the mean stays fixed (JB).
    update_mean: ClassVar[bool] = True

    def __init__(
        self,
        n_components: int | None = None,
        n_iter: int = 10,
        tol: float = 1e-6,
        shrinkage: float = 0.3,
        max_per_identity: int | None = 5,
        recenter: bool = True,
        normalize: bool = True,
    ) -> None:
        self.n_components = n_components
        self.n_iter = n_iter
        self.tol = tol
        self.shrinkage = shrinkage
        self.max_per_identity = max_per_identity
        self.recenter = recenter
        self.normalize = normalize

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        cap = self.max_per_identity
        Z = l2_normalize(X) if self.normalize else X
        self.recenter_mean_ = Z.mean(axis=0, dtype=np.float64).astype(np.float32)
        Z = self._recentered(Z)
        if self.n_components is not None:
            center, V = pca_basis(Z, self.n_components, type(self).__name__)
            stats = class_stats(project(Z, center, V), y, cap)
        elif self.update_mean:
            center, V = np.zeros(Z.shape[1]), np.eye(Z.shape[1])
            stats = class_stats(Z, y, cap)
        else:  # centre through the statistics: no copy of the rows
            center, V = Z.mean(axis=0, dtype=np.float64), np.eye(Z.shape[1])
            stats = class_stats(Z, y, cap).shifted(center)
        m, S_between, S_within, history = fit_two_covariance(
            stats, n_iter=self.n_iter, tol=float(self.tol), shrinkage=float(self.shrinkage),
            update_mean=self.update_mean,
        )
        T, lam = diagonalize(S_between, S_within)
        a, c, const = pair_llr_terms(lam)
        self.components_ = (V @ T).T.astype(np.float32)  # (k, d): x -> u
        self.quad_ = a.astype(np.float32)
        self.cross_sqrt_ = np.sqrt(c).astype(np.float32)
        self.log_likelihood_ = np.asarray(history)
        self._store_model(center + m @ V.T if self.update_mean else center, S_between, S_within, const)

    def _store_model(self, mean: np.ndarray, S_between: np.ndarray, S_within: np.ndarray, const: float) -> None:
        """Keep the model mean (input space), the two covariances and the score's constant."""
        raise NotImplementedError

    def _recentered(self, Z: np.ndarray) -> np.ndarray:
        return l2_normalize(Z - self.recenter_mean_) if self.recenter else Z

    def prepare(self, X: np.ndarray) -> np.ndarray:
        Z = self._recentered(l2_normalize(X) if self.normalize else X)
        U = (Z - self.mean_) @ self.components_.T
        q = (U * U) @ self.quad_
        return np.concatenate([U * self.cross_sqrt_, q[:, None]], axis=1)
