"""Two-covariance probabilistic LDA with a log-likelihood-ratio score ("plda")."""

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


class PLDA(PairMetric):
    """``score = log N([x1; x2]; same) - log N([x1; x2]; different)``, a calibrated log-likelihood ratio.

    Model (two-covariance PLDA): ``x = y + e``, ``y ~ N(m, S_b)`` one latent per identity,
    ``e ~ N(0, S_w)``. ``m``, ``S_b``, ``S_w`` start from the closed-form scatter estimates
    and are refined by exact EM of the identity-weighted likelihood, with the within covariance
    shrunk after every step (``n_iter=0`` keeps the closed form). The score is the
    full log-likelihood ratio, constant included, so ``score > 0`` favours "same person"
    and the score feeds calibration directly. Identities with one image are kept; at
    least two identities need two or more images.

    Parameters
    ----------
    n_components : int or None, default None
        PCA dimensions kept before the model (``None``: no reduction).
    n_iter : int, default 10
        Maximum EM iterations.
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
        if self.n_components is None:
            center, V = np.zeros(Z.shape[1]), np.eye(Z.shape[1])
            stats = class_stats(Z, y, cap)
        else:
            center, V = pca_basis(Z, self.n_components)
            stats = class_stats(project(Z, center, V), y, cap)
        m, Sb, Sw, history = fit_two_covariance(
            stats, n_iter=self.n_iter, tol=float(self.tol), shrinkage=float(self.shrinkage), update_mean=True
        )
        T, lam = diagonalize(Sb, Sw)
        a, c, const = pair_llr_terms(lam)
        self.mean_ = (center + m @ V.T).astype(np.float32)  # model mean in input space
        self.between_ = Sb
        self.within_ = Sw
        self.components_ = (V @ T).T.astype(np.float32)
        self.quad_ = a.astype(np.float32)
        self.cross_sqrt_ = np.sqrt(c).astype(np.float32)
        self.offset_ = float(const)
        self.log_likelihood_ = np.asarray(history)

    def _recentered(self, Z: np.ndarray) -> np.ndarray:
        return l2_normalize(Z - self.recenter_mean_) if self.recenter else Z

    def prepare(self, X: np.ndarray) -> np.ndarray:
        Z = self._recentered(l2_normalize(X) if self.normalize else X)
        U = (Z - self.mean_) @ self.components_.T
        q = (U * U) @ self.quad_
        return np.concatenate([U * self.cross_sqrt_, q[:, None]], axis=1)

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        r = Za[:, -1].astype(np.float64) + Zb[:, -1] + rowwise_dot(Za[:, :-1], Zb[:, :-1])
        return 0.5 * r + self.offset_
