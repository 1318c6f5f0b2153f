"""Test-set mean-centring (transductive): centre the test descriptors on their own mean, then score."""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.metrics.base import l2_normalize
from facemetric.normalize.transductive import TransductiveMetric
from facemetric.normalize.wrapped import build_metric


class TestCenter(TransductiveMetric):
    """Centre descriptors on the mean of their own set, then apply ``metric``.

    In ``fit`` the wrapped metric learns on the training descriptors centred on the training
    mean; at scoring time the test descriptors are centred on the *test* mean instead, which
    removes a shift between the training and test domains. With ``normalize`` the descriptors
    are L2-normalised first. Transductive: it looks at every test descriptor.
    """

    __test__ = False  # not a pytest test class despite its name

    def __init__(self, metric: Any = "cosine", *, normalize: bool = True) -> None:
        self.metric = metric
        self.normalize = normalize

    def _centre(self, X: np.ndarray) -> np.ndarray:
        X = l2_normalize(X) if self.normalize else X
        return (X - X.mean(axis=0)).astype(np.float32)

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        self.base_ = build_metric(self.metric).fit(self._centre(X), y)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Treat ``X`` itself as the test set: centre it on its mean and prepare it for the metric."""
        return self.base_.prepare(self._centre(X))

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        return self.base_.score_prepared(Za, Zb)

    def score_test(self, T: np.ndarray, ja: np.ndarray, jb: np.ndarray) -> np.ndarray:
        Z = self.prepare(T)
        return self.base_.score_prepared(Z[ja], Z[jb])
