"""Maths shared by Joint Bayesian and two-covariance PLDA.

The model: ``x = y + e``, ``y ~ N(m, S_b)`` one latent per identity, ``e ~ N(0, S_w)``.

Everything runs on sufficient statistics (per-identity counts and sums, and one
``sum x x^T``), so the cost of one EM iteration is ``O(K D^2 + D^3)`` whatever the
number of images. The trick is the simultaneous diagonalisation ``T^T S_w T = I``,
``T^T S_b T = diag(lambda)``: in ``u = T^T x`` all dimensions are independent, the
posterior of each identity's latent ``y`` is diagonal, and the log-likelihood ratio of a
pair is a sum of 2 x 2 Gaussian terms.

Robustness for long-tailed face data (a few people with hundreds of images, most with
one or two):

* **identity weights** ``w_k``: the objective is the *weighted* log-likelihood
  ``sum_k w_k log p(X_k)``. With ``max_per_identity=c``, ``w_k = min(1, c / n_k)``: an
  identity with hundreds of images counts as if it had ``c``, so it cannot define
  ``S_w`` alone. The E-step still uses all of an identity's images; EM stays monotone in
  the weighted likelihood.
* **shrinkage** of the within-identity covariance ``S_w`` towards ``mean(diag S_w) I``
  after the closed-form start and after every M-step (a regularised EM: monotone only
  without shrinkage). ``S_b`` is not shrunk: inflating the between-identity variance of
  the nuisance directions makes them count as identity evidence (measured worse).
* a relative **ridge floor** on ``S_w`` so that a rank-deficient within-identity scatter
  (few identities with several images) cannot break the generalised eigenproblem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from facemetric.errors import InputError
from facemetric.metrics._stats import class_means, encode_labels, scatter, shrink

LAMBDA_FLOOR = 1e-10
RIDGE = 1e-6  # relative floor added to S_w: S_w + RIDGE * mean(diag S_w) * I


@dataclass(frozen=True)
class ClassStats:
    """Sufficient statistics of labelled rows.

    ``counts`` (K,) images per identity, ``sums`` (K, D) per-identity sums,
    ``weights`` (K,) identity weights ``w_k``, ``second`` (D, D) ``sum_k w_k sum_i x x^T``.
    """

    counts: np.ndarray
    sums: np.ndarray
    second: np.ndarray
    weights: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def n_weighted(self) -> float:
        """``sum_k w_k n_k``: the weighted number of images."""
        return float(self.weights @ self.counts)

    def shifted(self, m: np.ndarray) -> ClassStats:
        """The statistics of ``x - m``, without touching the rows."""
        s = self.weights @ self.sums
        second = self.second - np.outer(m, s) - np.outer(s, m) + self.n_weighted * np.outer(m, m)
        return ClassStats(counts=self.counts, sums=self.sums - self.counts[:, None] * m, second=second,
                          weights=self.weights)


def identity_weights(counts: np.ndarray, max_per_identity: int | None) -> np.ndarray:
    """``w_k = min(1, max_per_identity / n_k)`` (all ones when ``max_per_identity`` is None)."""
    if max_per_identity is None:
        return np.ones_like(counts, dtype=np.float64)
    return np.minimum(1.0, max_per_identity / np.maximum(counts, 1.0))


def class_stats(
    Z: np.ndarray, y: np.ndarray, max_per_identity: int | None = None, chunk: int = 65536
) -> ClassStats:
    """Counts, sums and the identity-weighted second moment of the rows ``Z`` labelled ``y``."""
    names, codes = encode_labels(y)
    means, counts = class_means(Z, codes, names.size)
    w = identity_weights(counts, max_per_identity)
    if max_per_identity is None:
        second = scatter(Z)
    else:
        second = np.zeros((Z.shape[1], Z.shape[1]))
        for lo in range(0, Z.shape[0], chunk):
            B = Z[lo:lo + chunk].astype(np.float64) * np.sqrt(w[codes[lo:lo + chunk]])[:, None]
            second += B.T @ B
    return ClassStats(counts=counts, sums=means * counts[:, None], second=second, weights=w)


def _floor_within(Sw: np.ndarray) -> np.ndarray:
    d = Sw.shape[0]
    level = np.trace(Sw) / d
    if not np.isfinite(level) or level <= 0:
        raise InputError(
            "the within-identity covariance is zero: every identity's images are identical; "
            "give identities with several distinct images"
        )
    return Sw + RIDGE * level * np.eye(d)


def scatter_init(stats: ClassStats, shrinkage: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form estimate ``(m, S_b, S_w)``: pooled within-class covariance, covariance of identity means.

    Both are weighted by the identity weights; ``S_w`` is shrunk by ``shrinkage``. Needs at least
    two identities with two or more rows (else :class:`InputError`).
    """
    n_i, w = stats.counts, stats.weights
    multi = n_i >= 2
    if multi.sum() < 2:
        raise InputError(
            "the two-covariance model needs at least 2 identities with 2 or more images; "
            f"got {int(multi.sum())}"
        )
    means = stats.sums / n_i[:, None]
    within = stats.second - ((stats.sums * w[:, None]).T @ means)  # sum_k w_k sum_i (x - m_k)(x - m_k)^T
    Sw = within / float(w @ (n_i - 1))
    m = w @ means / w.sum()
    Dm = means - m
    Sb = (Dm * w[:, None]).T @ Dm / w.sum()
    return m, shrink(Sb, 0.0), _floor_within(shrink(Sw, shrinkage))


def diagonalize(Sb: np.ndarray, Sw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``T`` (D, D), ``lambda`` (D,) descending, with ``T^T S_w T = I`` and ``T^T S_b T = diag(lambda)``."""
    try:
        lam, T = scipy.linalg.eigh((Sb + Sb.T) / 2, (Sw + Sw.T) / 2)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise InputError(
            "the two-covariance model is degenerate (within-identity covariance not positive definite: "
            f"{exc}); add identities with several images, raise shrinkage or set n_components"
        ) from None
    order = np.argsort(lam)[::-1]
    return T[:, order], np.maximum(lam[order], LAMBDA_FLOOR)


def em_step(
    stats: ClassStats,
    m: np.ndarray,
    Sb: np.ndarray,
    Sw: np.ndarray,
    *,
    update_mean: bool = True,
    shrinkage: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One exact EM iteration (posterior means *and* covariances of the identity latents).

    The M-step maximises the weighted likelihood ``sum_k w_k log p(X_k)``; ``shrinkage``
    then shrinks ``S_w`` (a regularised step: no longer monotone).
    """
    T, lam = diagonalize(Sb, Sw)
    n_i = stats.counts[:, None]
    w = stats.weights[:, None]
    F = stats.sums @ T  # (K, D) class sums in u-space
    mu = m @ T
    prec = 1.0 / lam + n_i  # posterior precision of each latent, diagonal
    Ey = (mu / lam + F) / prec  # posterior means (K, D)
    Cy = 1.0 / prec  # posterior variances (K, D)
    Wk, Nw = float(w.sum()), stats.n_weighted
    y_bar = (w * Ey).sum(axis=0) / Wk
    mu_new = y_bar if update_mean else mu
    Eyy = (Ey * w).T @ Ey + np.diag((Cy * w).sum(axis=0))
    Sb_u = Eyy / Wk - np.outer(mu_new, y_bar) - np.outer(y_bar, mu_new) + np.outer(mu_new, mu_new)
    S_u = T.T @ stats.second @ T
    cross = (F * w).T @ Ey
    Sw_u = (S_u - cross - cross.T + (Ey * (w * n_i)).T @ Ey + np.diag((Cy * w * n_i).sum(axis=0))) / Nw
    Tinv = np.linalg.inv(T)
    Sb_new = Tinv.T @ Sb_u @ Tinv
    Sw_new = Tinv.T @ Sw_u @ Tinv
    m_new = mu_new @ Tinv if update_mean else m
    return m_new, shrink(Sb_new, 0.0), _floor_within(shrink(Sw_new, shrinkage))


def log_likelihood(stats: ClassStats, m: np.ndarray, Sb: np.ndarray, Sw: np.ndarray) -> float:
    """Exact (weighted) log-likelihood ``sum_k w_k log p(X_k)`` (identities independent)."""
    T, lam = diagonalize(Sb, Sw)
    n_i = stats.counts[:, None]
    w = stats.weights
    F = stats.sums @ T
    mu = m @ T
    S_diag = (T * (stats.second @ T)).sum(axis=0)  # diag(T^T S T), S weighted
    Nw = stats.n_weighted
    sq = S_diag - 2 * mu * (w @ F) + Nw * mu**2  # per-dim weighted sum of (u - mu)^2 over all rows
    dev = F - n_i * mu  # per-class sum of (u - mu)
    one_plus = 1.0 + n_i * lam
    ll = -0.5 * Nw * lam.size * np.log(2 * np.pi)
    ll -= 0.5 * float(w @ np.log(one_plus).sum(axis=1))
    ll -= 0.5 * (sq.sum() - float(w @ (lam * dev**2 / one_plus).sum(axis=1)))
    _, logdet_sw = np.linalg.slogdet(Sw)
    ll += Nw * (-0.5 * logdet_sw)  # Jacobian of u = T^T x
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
        m = stats.weights @ stats.sums / stats.n_weighted
    history = [log_likelihood(stats, m, Sb, Sw)]
    for _ in range(n_iter):
        m, Sb, Sw = em_step(stats, m, Sb, Sw, update_mean=update_mean, shrinkage=shrinkage)
        history.append(log_likelihood(stats, m, Sb, Sw))
        if abs(history[-1] - history[-2]) <= tol * abs(history[-2]):
            break
    return m, Sb, Sw, history
