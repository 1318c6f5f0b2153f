"""Joint Bayesian face verification (Chen, Cao, Wang, Wen and Sun, ECCV 2012) ("joint-bayes")."""

from __future__ import annotations

import numpy as np

from facemetric.metrics.base import rowwise_dot
from facemetric.metrics.two_covariance_metric import TwoCovarianceMetric


class JointBayesian(TwoCovarianceMetric):
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

    Parameters: see :class:`~facemetric.metrics.two_covariance_metric.TwoCovarianceMetric`.
    """

    update_mean = False

    def _store_model(self, mean: np.ndarray, S_between: np.ndarray, S_within: np.ndarray, const: float) -> None:
        self.mean_ = mean.astype(np.float32)
        self.S_mu_ = S_between
        self.S_eps_ = S_within

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        return Za[:, -1] + Zb[:, -1] + rowwise_dot(Za[:, :-1], Zb[:, :-1])

    def score_matrix(self, Za: np.ndarray, Zb: np.ndarray, **_: object) -> np.ndarray:
        r = (Za[:, :-1] @ Zb[:, :-1].T).astype(np.float64)
        r += Za[:, -1, None].astype(np.float64)
        r += Zb[:, -1].astype(np.float64)
        return r
