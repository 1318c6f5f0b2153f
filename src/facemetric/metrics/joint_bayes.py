"""Joint Bayesian face verification (Chen, Cao, Wang, Wen and Sun, ECCV 2012) ("joint-bayes")."""

from __future__ import annotations

import numpy as np

from facemetric.metrics.base import (
    PairMetric,
    check_components,
    check_float,
    check_int,
    l2_normalize,
    pca_basis,
    project,
    rowwise_dot,
)
from facemetric.metrics.two_covariance import class_stats, diagonalize, fit_two_covariance, pair_llr_terms


class JointBayesian(PairMetric):
    """``r(x1, x2) = x1^T A x1 + x2^T A x2 - 2 x1^T G x2`` with ``S_mu``, ``S_eps`` learned by EM.

    Model: ``x = mu + eps`` with ``mu ~ N(0, S_mu)`` (identity) and ``eps ~ N(0, S_eps)``
    (within-identity variation), on descriptors centred on the training mean. Closed forms:
    ``F = S_eps^{-1}``, ``G = -(2 S_mu + S_eps)^{-1} S_mu S_eps^{-1}``,
    ``A = (S_mu + S_eps)^{-1} - (F + G)``; ``r`` is twice the log-likelihood ratio of
    "same" against "different" up to a constant. EM starts from the within/between scatter
    and is the exact EM (posterior covariances included) of the identity-weighted
    likelihood, so without shrinkage that likelihood never decreases; Chen et al.'s M-step
    uses the posterior means only. Identities with one image are kept (they inform
    ``S_mu + S_eps``); at least two identities need two or more images. The defaults
    (shrinkage of ``S_eps``, identity weighting, re-centring) matter on long-tailed face data:
    plain maximum likelihood lets a few identities with hundreds of images define
    ``S_eps`` (see docs/metrics.md).

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

    min_features = 2

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
        check_components(self)
        check_int(self, "n_iter", 0)
        check_float(self, "shrinkage", 0, 1)
        check_components(self, "max_per_identity")
        cap = self.max_per_identity
        Z = l2_normalize(X) if self.normalize else X
        self.recenter_mean_ = Z.mean(axis=0, dtype=np.float64).astype(np.float32)
        Z = self._recentered(Z)
        if self.n_components is None:  # centre through the statistics: no copy of the rows
            mean, V = Z.mean(axis=0, dtype=np.float64), np.eye(Z.shape[1])
            stats = class_stats(Z, y, cap).shifted(mean)
        else:
            mean, V = pca_basis(Z, self.n_components)
            stats = class_stats(project(Z, mean, V), y, cap)
        _, S_mu, S_eps, history = fit_two_covariance(
            stats, n_iter=self.n_iter, tol=float(self.tol), shrinkage=float(self.shrinkage), update_mean=False
        )
        T, lam = diagonalize(S_mu, S_eps)
        a, c, _ = pair_llr_terms(lam)
        self.mean_ = mean.astype(np.float32)
        self.S_mu_ = S_mu
        self.S_eps_ = S_eps
        self.components_ = (V @ T).T.astype(np.float32)  # (k, d): x -> u
        self.quad_ = a.astype(np.float32)
        self.cross_sqrt_ = np.sqrt(c).astype(np.float32)
        self.log_likelihood_ = np.asarray(history)

    def _recentered(self, Z: np.ndarray) -> np.ndarray:
        return l2_normalize(Z - self.recenter_mean_) if self.recenter else Z

    def prepare(self, X: np.ndarray) -> np.ndarray:
        Z = self._recentered(l2_normalize(X) if self.normalize else X)
        U = (Z - self.mean_) @ self.components_.T
        q = (U * U) @ self.quad_
        return np.concatenate([U * self.cross_sqrt_, q[:, None]], axis=1)

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        return Za[:, -1] + Zb[:, -1] + rowwise_dot(Za[:, :-1], Zb[:, :-1])
