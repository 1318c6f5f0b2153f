"""PLDA with multi-sample enrolment: the exact log-likelihood ratio of two *sets*, from sufficient statistics.

In the latent space of a fitted two-covariance PLDA, ``u = T^T (x - m)``, every dimension is
independent with ``u = y + e``, ``y ~ N(0, lambda)`` shared by a subject's samples and
``e ~ N(0, 1)``. For a set of ``n`` samples with sum ``s`` (per dimension), integrating ``y`` out:

    log p(set) = -n/2 log 2pi - 1/2 sum u^2 - 1/2 log(1 + n lambda) + lambda s^2 / (2 (1 + n lambda))

The ``sum u^2`` terms cancel in the ratio of "one subject" against "two subjects", so the
log-likelihood ratio of sets A (``n_a``, ``s_a``) and B (``n_b``, ``s_b``), ``N = n_a + n_b``, is

    LLR = sum_d  1/2 [log(1 + n_a l) + log(1 + n_b l) - log(1 + N l)]
               + l (s_a + s_b)^2 / (2 (1 + N l)) - l s_a^2 / (2 (1 + n_a l)) - l s_b^2 / (2 (1 + n_b l))

which for ``n_a = n_b = 1`` is PLDA's pair score. Only the counts and the sums enter: no
averaging. Every sample counts as independent evidence (frames of one video are not), which is
the model's assumption, not pooling's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from facemetric.errors import ConfigError, InputError
from facemetric.metrics.plda import PLDA
from facemetric.metrics.two_covariance import diagonalize
from facemetric.templates.groups import Groups


class PLDASetScorer:
    """Encode templates as ``[sum of latents, count]`` and score them with the exact multi-sample LLR."""

    native = True
    dot_product_scores = False

    def __init__(self, metric: Any) -> None:
        if not isinstance(metric, PLDA):
            raise ConfigError(f"native set scoring is PLDA's multi-sample likelihood ratio; {type(metric).__name__} "
                              "scores pooled templates instead (use pooling 'mean')")
        metric._check_fitted()
        self.metric = metric
        _, lam = diagonalize(metric.between_, metric.within_)
        self.lam = lam.astype(np.float64)

    def latents(self, X: np.ndarray) -> np.ndarray:
        """(N, k) float64 latent vectors ``u`` of descriptors ``X``."""
        P = np.asarray(self.metric.prepare(X))
        return P[:, :-1].astype(np.float64) / self.metric.cross_sqrt_.astype(np.float64)

    def encode(self, X: np.ndarray, groups: Groups | None = None) -> np.ndarray:
        """(T, k + 1): per template the sum of its latents and, last, its number of samples."""
        if groups is None:
            U = self.latents(X)
            return np.hstack([U, np.ones((U.shape[0], 1))])
        if groups.weights is not None:
            raise ConfigError("PLDA's native set scoring uses every sample with weight 1 (exact sufficient "
                              "statistics); drop the quality weights or pool with 'mean'")
        U = self.latents(np.asarray(X)[groups.rows])
        ind = sparse.csr_matrix((np.ones(U.shape[0]), (groups.template, np.arange(U.shape[0]))),
                                shape=(groups.n_templates, U.shape[0]))
        return np.hstack([ind @ U, groups.sizes[:, None].astype(np.float64)])

    def _terms(self, na: np.ndarray, nb: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per-dimension coefficients for counts ``na``, ``nb`` (broadcastable): const, a, b, cross."""
        lam = self.lam
        la = 1.0 + np.multiply.outer(na, lam)
        lb = 1.0 + np.multiply.outer(nb, lam)
        lab = 1.0 + np.multiply.outer(na + nb, lam)
        const = 0.5 * (np.log(la) + np.log(lb) - np.log(lab)).sum(axis=-1)
        cross = lam / lab
        return const, 0.5 * cross - 0.5 * lam / la, 0.5 * cross - 0.5 * lam / lb, cross

    @staticmethod
    def _counts(E: np.ndarray, what: str) -> np.ndarray:
        n = E[:, -1]
        if (n < 1).any():
            raise InputError(f"{what} holds a template with no samples; every template needs at least one image")
        return n

    def score_prepared(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """LLR of aligned rows of encoded templates."""
        na, nb = self._counts(A, "first templates"), self._counts(B, "second templates")
        const, a, b, cross = self._terms(na, nb)
        Sa, Sb = A[:, :-1], B[:, :-1]
        return const + (a * Sa * Sa).sum(axis=1) + (b * Sb * Sb).sum(axis=1) + (cross * Sa * Sb).sum(axis=1)

    def score_matrix(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """(len(A), len(B)) LLRs, one matrix product per pair of template sizes."""
        na, nb = self._counts(A, "first templates"), self._counts(B, "second templates")
        out = np.empty((A.shape[0], B.shape[0]))
        sizes_b = [(n, np.flatnonzero(nb == n)) for n in np.unique(nb)]
        for n_a in np.unique(na):
            ra = np.flatnonzero(na == n_a)
            Sa = A[ra, :-1]
            for n_b, rb in sizes_b:
                const, a, b, cross = self._terms(np.float64(n_a), np.float64(n_b))
                Sb = B[rb, :-1]
                block = (Sa * cross) @ Sb.T
                block += ((Sa * Sa) @ a + const)[:, None]
                block += (Sb * Sb) @ b
                out[np.ix_(ra, rb)] = block
        return out
