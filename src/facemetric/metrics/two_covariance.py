"""Maths shared by Joint Bayesian and two-covariance PLDA.

The model: ``x = y + e``, ``y ~ N(m, S_b)`` one latent per identity, ``e ~ N(0, S_w)``.

Everything runs on sufficient statistics (per-identity counts and sums, and one
``sum x x^T``), so the cost of one EM iteration is ``O(K D^2 + D^3)`` whatever the
number of images. The trick is the simultaneous diagonalisation ``T^T S_w T = I``,
``T^T S_b T = diag(lambda)``: in ``u = T^T x`` all dimensions are independent, the
posterior of each identity's latent ``y`` is diagonal, and the log-likelihood ratio of a
pair is a sum of 2 x 2 Gaussian terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from facemetric.errors import InputError
from facemetric.metrics.base import class_means, encode_labels, scatter

LAMBDA_FLOOR = 1e-10


@dataclass(frozen=True)
class ClassStats:
    """Sufficient statistics of labelled rows: counts (K,), sums (K, D), ``sum x x^T`` (D, D)."""

    counts: np.ndarray
    sums: np.ndarray
    second: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def shifted(self, m: np.ndarray) -> ClassStats:
        """The statistics of ``x - m``, without touching the rows."""
        s = self.sums.sum(axis=0)
        second = self.second - np.outer(m, s) - np.outer(s, m) + self.n * np.outer(m, m)
        return ClassStats(counts=self.counts, sums=self.sums - self.counts[:, None] * m, second=second)


def class_stats(Z: np.ndarray, y: np.ndarray) -> ClassStats:
    names, codes = encode_labels(y)
    means, counts = class_means(Z, codes, names.size)
    return ClassStats(counts=counts, sums=means * counts[:, None], second=scatter(Z))


def scatter_init(stats: ClassStats, shrinkage: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form estimate ``(m, S_b, S_w)``: pooled within-class covariance, covariance of identity means.

    Needs at least two identities with two or more rows (else :class:`InputError`).
    """
    n_i = stats.counts
    multi = n_i >= 2
    if multi.sum() < 2:
        raise InputError(
            "the two-covariance model needs at least 2 identities with 2 or more images; "
            f"got {int(multi.sum())}"
        )
    d = stats.second.shape[0]
    means = stats.sums / n_i[:, None]
    within = stats.second - (stats.sums.T @ means)  # sum over all rows of (x - m_i)(x - m_i)^T
    Sw = within / (stats.n - n_i.size)
    m = means.mean(axis=0)
    Dm = means - m
    Sb = Dm.T @ Dm / n_i.size
    if shrinkage > 0:
        Sw = (1 - shrinkage) * Sw + shrinkage * np.trace(Sw) / d * np.eye(d)
    return m, Sb, Sw


def diagonalize(Sb: np.ndarray, Sw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``T`` (D, D), ``lambda`` (D,) descending, with ``T^T S_w T = I`` and ``T^T S_b T = diag(lambda)``."""
    lam, T = scipy.linalg.eigh(Sb, Sw)
    order = np.argsort(lam)[::-1]
    return T[:, order], np.maximum(lam[order], LAMBDA_FLOOR)


def em_step(
    stats: ClassStats, m: np.ndarray, Sb: np.ndarray, Sw: np.ndarray, *, update_mean: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One exact EM iteration (posterior means *and* covariances of the identity latents)."""
    T, lam = diagonalize(Sb, Sw)
    n_i = stats.counts[:, None]
    F = stats.sums @ T  # (K, D) class sums in u-space
    mu = m @ T
    prec = 1.0 / lam + n_i  # posterior precision of each latent, diagonal
    Ey = (mu / lam + F) / prec  # posterior means (K, D)
    Cy = 1.0 / prec  # posterior variances (K, D)
    K, N = stats.counts.size, stats.n
    mu_new = Ey.mean(axis=0) if update_mean else mu
    Eyy = Ey.T @ Ey
    Sb_u = (Eyy + np.diag(Cy.sum(axis=0))) / K - np.outer(mu_new, mu_new)
    S_u = T.T @ stats.second @ T
    cross = F.T @ Ey
    Sw_u = (S_u - cross - cross.T + (Ey * n_i).T @ Ey + np.diag((Cy * n_i).sum(axis=0))) / N
    Tinv = np.linalg.inv(T)
    Sb_new = Tinv.T @ Sb_u @ Tinv
    Sw_new = Tinv.T @ Sw_u @ Tinv
    m_new = mu_new @ Tinv if update_mean else m
    return m_new, (Sb_new + Sb_new.T) / 2, (Sw_new + Sw_new.T) / 2


def log_likelihood(stats: ClassStats, m: np.ndarray, Sb: np.ndarray, Sw: np.ndarray) -> float:
    """Exact log-likelihood of all rows under the model (identities independent)."""
    T, lam = diagonalize(Sb, Sw)
    n_i = stats.counts[:, None]
    F = stats.sums @ T
    mu = m @ T
    S_diag = (T * (stats.second @ T)).sum(axis=0)  # diag(T^T S T)
    N = stats.n
    sq = S_diag - 2 * mu * F.sum(axis=0) + N * mu**2  # per-dim sum of (u - mu)^2 over all rows
    dev = F - n_i * mu  # per-class sum of (u - mu)
    one_plus = 1.0 + n_i * lam
    ll = -0.5 * N * lam.size * np.log(2 * np.pi)
    ll -= 0.5 * np.log(one_plus).sum()
    ll -= 0.5 * (sq.sum() - (lam * dev**2 / one_plus).sum())
    _, logdet_sw = np.linalg.slogdet(Sw)
    ll += N * (-0.5 * logdet_sw)  # Jacobian of u = T^T x
    return float(ll)


def pair_llr_terms(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-dimension coefficients of ``2 LLR = sum a (u1^2 + u2^2) + sum c u1 u2 + 2 const`` in u-space.

    ``a = 1/(lam+1) - (lam+1)/(2 lam+1)`` (Chen's A), ``c = 2 lam/(2 lam+1)`` (Chen's -2G),
    ``const = sum log(lam+1) - log(2 lam+1)/2``.
    """
    a = 1.0 / (lam + 1.0) - (lam + 1.0) / (2.0 * lam + 1.0)
    c = 2.0 * lam / (2.0 * lam + 1.0)
    const = float(np.sum(np.log(lam + 1.0) - 0.5 * np.log(2.0 * lam + 1.0)))
    return a, c, const


def fit_two_covariance(
    stats: ClassStats, *, n_iter: int, tol: float, shrinkage: float, update_mean: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """Scatter initialisation, then EM until the relative gain in log-likelihood falls under ``tol``."""
    m, Sb, Sw = scatter_init(stats, shrinkage)
    if not update_mean:
        m = stats.sums.sum(axis=0) / stats.n
    history = [log_likelihood(stats, m, Sb, Sw)]
    for _ in range(n_iter):
        m, Sb, Sw = em_step(stats, m, Sb, Sw, update_mean=update_mean)
        history.append(log_likelihood(stats, m, Sb, Sw))
        if abs(history[-1] - history[-2]) <= tol * abs(history[-2]):
            break
    return m, Sb, Sw, history
