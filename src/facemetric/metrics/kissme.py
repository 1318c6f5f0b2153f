"""KISSME: keep it simple and straightforward metric learning (Koestinger et al., CVPR 2012) ("kissme")."""

from __future__ import annotations

import numpy as np

from facemetric.constraints import Interval
from facemetric.metrics._stats import class_means, drop_small_identities, encode_labels, pca_basis, project, scatter
from facemetric.metrics.base import l2_normalize
from facemetric.metrics.projection import LinearProjection


class KISSME(LinearProjection):
    """Score ``-(x1 - x2)^T M (x1 - x2)`` with ``M = PSD(inv(S_same) - inv(S_diff))``.

    ``S_same`` is the covariance of the differences of same-identity pairs (all of them,
    in closed form: a class of ``n`` images adds ``n`` times its scatter), ``S_diff`` that
    of ``n_negative_pairs`` impostor pairs drawn with ``seed``. ``M`` is the
    log-likelihood-ratio test of two zero-mean Gaussians on the difference, clipped to
    its positive eigenvalues. As in the paper, descriptors are PCA-reduced first.
    Identities with one image are dropped (with a :class:`SingletonIdentityWarning`).

    Parameters
    ----------
    n_components : int or None, default 64
        PCA dimensions (``None``: no reduction).
    n_negative_pairs : int, default 200000
        Impostor pairs sampled to estimate ``S_diff``.
    reg : float, default 1e-3
        Ridge added to both covariances, as a fraction of their mean eigenvalue.
    seed : int, default 0
        Seed of the impostor pair sampling.
    normalize : bool, default True
        L2-normalise descriptors first.
    """

    min_features = 2
    similarity = "euclidean"
    _parameter_constraints = {
        "n_components": [None, Interval("int", 1)],
        "n_negative_pairs": [Interval("int", 1)],
        "reg": [Interval("float", 0)],
    }

    def __init__(
        self,
        n_components: int | None = 64,
        n_negative_pairs: int = 200_000,
        reg: float = 1e-3,
        seed: int = 0,
        normalize: bool = True,
    ) -> None:
        self.n_components = n_components
        self.n_negative_pairs = n_negative_pairs
        self.reg = reg
        self.seed = seed
        self.normalize = normalize

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        Z = l2_normalize(X) if self.normalize else X
        Z, y = drop_small_identities(Z, y, type(self).__name__)
        mean, V = pca_basis(Z, self.n_components, type(self).__name__)
        if self.n_components is None:
            V = np.eye(Z.shape[1])
        P = project(Z, mean, V)
        names, codes = encode_labels(y)
        class_mean, counts = class_means(P, codes, names.size)
        # same pairs: sum over the pairs of a class of (xi - xj)(xi - xj)^T = n_c * scatter_c
        weight = np.sqrt(counts)
        S_same = np.zeros((P.shape[1], P.shape[1]))
        for lo in range(0, P.shape[0], 65536):
            c = codes[lo:lo + 65536]
            B = (P[lo:lo + 65536] - class_mean[c]) * weight[c][:, None]
            S_same += B.T @ B
        S_same /= float((counts * (counts - 1) / 2).sum())
        rng = np.random.default_rng(self.seed)
        n_neg = int(self.n_negative_pairs)
        ia = rng.integers(0, P.shape[0], size=2 * n_neg)
        ib = rng.integers(0, P.shape[0], size=2 * n_neg)
        keep = codes[ia] != codes[ib]
        ia, ib = ia[keep][:n_neg], ib[keep][:n_neg]
        S_diff = scatter(P[ia] - P[ib]) / ia.size
        k = P.shape[1]
        ridge = self.reg * np.trace(S_diff) / k * np.eye(k)
        M = np.linalg.inv(S_same + ridge) - np.linalg.inv(S_diff + ridge)
        evals, evecs = np.linalg.eigh((M + M.T) / 2)
        L = evecs * np.sqrt(np.clip(evals, 0, None))  # M_psd = L L^T
        self.mean_ = mean.astype(np.float32)
        self.components_ = (V @ L).T.astype(np.float32)  # (k, d)
