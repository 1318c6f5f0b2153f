"""Unsupervised PLDA adaptation to the test descriptors, as Kaldi's ``ivector-adapt-plda`` (transductive).

A PLDA fitted on the training set models descriptors as ``u = y + e`` in its own space, where
the within-identity covariance is ``I`` and the between-identity one ``diag(lambda)``, so the
total covariance is ``I + diag(lambda)``. The unlabelled test descriptors show where the test
domain varies more than that:

1. the model mean moves to the test mean; the test covariance gets ``mean_diff_scale`` times
   the outer product of the mean shift added (Kaldi's "mean-diff-scale");
2. in the space where the model's total covariance is ``I``, each eigen-direction of the test
   covariance with variance ``s > 1`` has its excess ``s - 1`` split between the two
   covariances: ``within_scale (s - 1)`` to the within-identity one, ``between_scale (s - 1)``
   to the between-identity one (Kaldi: 0.3 and 0.7). Directions with ``s <= 1`` are left alone;
3. the adapted pair of covariances is diagonalised again and pairs are scored by the PLDA
   log-likelihood ratio of the adapted model.

This follows Daniel Povey's description in Kaldi (``PldaUnsupervisedAdaptor``); the defaults are
Kaldi's. Only the test descriptors are used (their mean and covariance), never labels or pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.errors import ConfigError
from facemetric.constraints import Interval
from facemetric.metrics.plda import PLDA
from facemetric.metrics.two_covariance import diagonalize, pair_llr_terms
from facemetric.normalize.transductive import TransductiveMetric
from facemetric.normalize.wrapped import build_metric


def adapt_covariances(U: np.ndarray, lam: np.ndarray, *, within_scale: float, between_scale: float,
                      mean_diff_scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adapted ``(mean, within, between)`` in the PLDA space of rows ``U`` (model: mean 0, ``I``, ``diag(lam)``)."""
    mean = U.mean(axis=0, dtype=np.float64)
    C = np.cov(U, rowvar=False, bias=True).reshape(U.shape[1], U.shape[1]) + mean_diff_scale * np.outer(mean, mean)
    scale = 1.0 / np.sqrt(1.0 + lam)  # into the space where the model's total covariance is I
    s, P = np.linalg.eigh(C * scale[:, None] * scale[None, :])
    W = P.T @ np.diag(1.0 / (1.0 + lam)) @ P
    B = P.T @ np.diag(lam / (1.0 + lam)) @ P
    excess = np.maximum(s - 1.0, 0.0)
    W[np.diag_indices_from(W)] += within_scale * excess
    B[np.diag_indices_from(B)] += between_scale * excess
    back = np.linalg.inv(P.T * scale[None, :])  # inverse of "scale, then P^T"
    return mean, back @ W @ back.T, back @ B @ back.T


class PLDAAdapt(TransductiveMetric):
    """PLDA scores after Kaldi-style unsupervised adaptation of its covariances to the test descriptors.

    ``metric``: the PLDA spec (a ``plda`` with any parameters). ``within_scale``,
    ``between_scale``, ``mean_diff_scale``: Kaldi's ``--within-covar-scale``,
    ``--between-covar-scale`` and ``--mean-diff-scale``.
    """

    _parameter_constraints = {name: [Interval("float", 0)]
                              for name in ("within_scale", "between_scale", "mean_diff_scale")}

    def __init__(self, metric: Any = "plda", *, within_scale: float = 0.3, between_scale: float = 0.7,
                 mean_diff_scale: float = 1.0) -> None:
        self.metric = metric
        self.within_scale = within_scale
        self.between_scale = between_scale
        self.mean_diff_scale = mean_diff_scale

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        base = build_metric(self.metric)
        if not isinstance(base, PLDA):
            raise ConfigError(f"The 'metric' parameter of PLDAAdapt must be a plda spec. Got {self.metric!r} instead.")
        self.base_ = base.fit(X, y)

    def score_test(self, T: np.ndarray, ja: np.ndarray, jb: np.ndarray) -> np.ndarray:
        U, lam = self.base_.latent_space(T)
        mean, within, between = adapt_covariances(U, lam, within_scale=float(self.within_scale),
                                                  between_scale=float(self.between_scale),
                                                  mean_diff_scale=float(self.mean_diff_scale))
        T2, lam2 = diagonalize(between, within)
        V = (U - mean) @ T2
        a, c, const = pair_llr_terms(lam2)
        q = (V * V) @ a
        return 0.5 * (q[ja] + q[jb] + np.einsum("ij,ij->i", V[ja] * c, V[jb])) + const
