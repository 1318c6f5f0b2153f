"""PCA whitening: cosine in the space of the top principal components, rescaled ("pca-whiten")."""

from __future__ import annotations

import numpy as np

from facemetric.constraints import Interval
from facemetric.errors import InputError
from facemetric.metrics._stats import capped, scatter
from facemetric.metrics.base import l2_normalize
from facemetric.metrics.projection import LinearProjection


class PCAWhitening(LinearProjection):
    """Cosine after projecting on the top principal components divided by ``eigval ** power``.

    ``z = (l2n(x) - mean) @ V_k / (lambda_k + reg * mean(lambda)) ** power``; ``power=0.5`` is
    full whitening, ``0`` plain PCA. Needs no labels. It evens out the variance of the
    descriptor dimensions, so that a few dominant directions (pose, lighting) no longer
    rule the cosine.

    Parameters
    ----------
    n_components : int or None, default None
        Components kept (``None``: all, at most ``n_samples - 1``).
    power : float, default 0.25
        Exponent of the eigenvalues in the rescaling: 0 = no rescaling, 0.5 = full
        whitening. The default, 0.25, is partial whitening: it does not blow up the noise
        directions of compact descriptors.
    reg : float, default 0.1
        Added to every eigenvalue, as a fraction of their mean, before the rescaling.
        It keeps noise directions from being blown up.
    normalize : bool, default True
        L2-normalise descriptors first.
    """

    needs_labels = False
    _parameter_constraints = {
        "n_components": [None, Interval("int", 1)],
        "power": [Interval("float", 0, 1)],
        "reg": [Interval("float", 0)],
    }

    def __init__(
        self, n_components: int | None = None, power: float = 0.25, reg: float = 0.1, normalize: bool = True
    ) -> None:
        self.n_components = n_components
        self.power = power
        self.reg = reg
        self.normalize = normalize

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        n, d = X.shape
        if n < 2:
            raise InputError(
                f"PCAWhitening needs at least 2 samples to estimate a covariance; got {n} sample"
            )
        Z = l2_normalize(X) if self.normalize else X
        mean = Z.mean(axis=0, dtype=np.float64)
        cov = scatter(Z, mean) / (n - 1)
        evals, evecs = np.linalg.eigh(cov)
        order = np.argsort(evals)[::-1]
        evals, evecs = np.clip(evals[order], 0, None), evecs[:, order]
        k = capped(type(self).__name__, "n_components", self.n_components, min(d, n - 1),
                   f"principal axes: min(dimension {d}, descriptors - 1 = {n - 1})")
        evals, evecs = evals[:k], evecs[:, :k]
        scale = (evals + self.reg * max(evals.mean(), 1e-12) + 1e-12) ** (-self.power)
        self.mean_ = mean.astype(np.float32)
        self.explained_variance_ = evals
        self.components_ = (evecs * scale).T.astype(np.float32)  # (k, d)
