"""Two-covariance probabilistic LDA with a log-likelihood-ratio score ("plda")."""

from __future__ import annotations

import numpy as np

from facemetric.metrics.base import l2_normalize, rowwise_dot
from facemetric.metrics.two_covariance import diagonalize
from facemetric.metrics.two_covariance_metric import TwoCovarianceMetric


class PLDA(TwoCovarianceMetric):
    """``score = log N([x1; x2]; same) - log N([x1; x2]; different)``, a calibrated log-likelihood ratio.

    Model (two-covariance PLDA): ``x = y + e``, ``y ~ N(m, S_b)`` one latent per identity,
    ``e ~ N(0, S_w)``. ``m``, ``S_b``, ``S_w`` start from the closed-form scatter estimates
    and are refined by exact EM of the identity-weighted likelihood, with the within covariance
    shrunk after every step (``n_iter=0`` keeps the closed form). The score is the
    full log-likelihood ratio, constant included, so ``score > 0`` favours "same person"
    and the score feeds calibration directly. Identities with one image are kept; at
    least two identities need two or more images.

    Parameters: see :class:`~facemetric.metrics.two_covariance_metric.TwoCovarianceMetric`.
    """

    update_mean = True

    def _store_model(self, mean: np.ndarray, S_between: np.ndarray, S_within: np.ndarray, const: float) -> None:
        self.mean_ = mean.astype(np.float32)  # model mean in input space
        self.between_ = S_between
        self.within_ = S_within
        self.offset_ = float(const)

    def latent_space(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(U, lambda)``: rows of ``X`` in the model's space, where the within-identity covariance is ``I``
        and the between-identity one ``diag(lambda)`` (descending), and the model mean is 0."""
        self._check_fitted()
        Z = self._recentered(l2_normalize(X) if self.normalize else X)
        _, lam = diagonalize(self.between_, self.within_)
        return (Z - self.mean_).astype(np.float64) @ self.components_.T.astype(np.float64), lam

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        r = Za[:, -1].astype(np.float64) + Zb[:, -1] + rowwise_dot(Za[:, :-1], Zb[:, :-1])
        return 0.5 * r + self.offset_

    def score_matrix(self, Za: np.ndarray, Zb: np.ndarray, **_: object) -> np.ndarray:
        r = (Za[:, :-1] @ Zb[:, :-1].T).astype(np.float64)
        r += Za[:, -1, None].astype(np.float64)
        r += Zb[:, -1].astype(np.float64)
        return 0.5 * r + self.offset_
