"""CORAL correlation alignment of the test descriptors to the training domain (transductive).

Sun, Feng and Saenko (AAAI 2016) align the second-order statistics of two domains with one
linear map: whiten by one covariance, re-colour by the other. Here the *test* descriptors are
mapped into the training domain, so that the metric fitted on the training set applies as it is:

    x' = C_train^(1/2) C_test^(-1/2) (n(x) - m_test) + m_train

with ``n`` the L2 normalisation, ``m`` the means and ``C`` the covariances of the normalised
descriptors, each shrunk by ``shrinkage`` towards ``mean(diag C) I`` (the paper adds ``I`` to
standardised features for the same reason: a test set may hold fewer images than dimensions).
Only the test descriptors' mean and covariance are used, never labels or pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.constraints import Interval
from facemetric.metrics._stats import shrink
from facemetric.metrics.base import l2_normalize
from facemetric.normalize.transductive import TransductiveMetric
from facemetric.normalize.wrapped import build_metric


def _sqrt_and_inverse_sqrt(C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w, V = np.linalg.eigh((C + C.T) / 2)
    w = np.maximum(w, 1e-12 * max(float(w.max()), 1e-300))
    return (V * np.sqrt(w)) @ V.T, (V / np.sqrt(w)) @ V.T


def coral_map(Z_test: np.ndarray, mean_train: np.ndarray, cov_train: np.ndarray, shrinkage: float) -> np.ndarray:
    """``Z_test`` (normalised rows) mapped so that its mean and covariance become the training ones."""
    mean = Z_test.mean(axis=0, dtype=np.float64)
    D = Z_test - mean
    cov = shrink(D.T @ D / max(Z_test.shape[0], 1), shrinkage)
    root_train, _ = _sqrt_and_inverse_sqrt(cov_train)
    _, inv_root_test = _sqrt_and_inverse_sqrt(cov)
    return (D @ (root_train @ inv_root_test).T + mean_train).astype(np.float32)


class CORAL(TransductiveMetric):
    """Score with ``metric`` (fitted on the training set) after mapping the test descriptors by CORAL.

    ``shrinkage`` in [0, 1] regularises both covariances (see the module docstring).
    """

    _parameter_constraints = {"shrinkage": [Interval("float", 0, 1)]}

    def __init__(self, metric: Any = "plda", *, shrinkage: float = 0.1) -> None:
        self.metric = metric
        self.shrinkage = shrinkage

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        Z = l2_normalize(X)
        self.train_mean_ = Z.mean(axis=0, dtype=np.float64)
        D = Z - self.train_mean_
        self.train_cov_ = shrink(D.T @ D / Z.shape[0], float(self.shrinkage))
        self.base_ = build_metric(self.metric).fit(X, y)

    def score_test(self, T: np.ndarray, ja: np.ndarray, jb: np.ndarray) -> np.ndarray:
        base = self.base_
        Z = base.prepare(coral_map(l2_normalize(T), self.train_mean_, self.train_cov_, float(self.shrinkage)))
        return base.score_prepared(Z[ja], Z[jb])
