"""Joint Bayesian and PLDA against brute-force Gaussian references on tiny synthetic data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from facemetric.metrics import JointBayesian, PLDA
from facemetric.metrics.two_covariance import class_stats, em_step, log_likelihood, scatter_init


def _synthetic(seed=0, K=40, d=4, per=(1, 2, 3, 5)):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, d))
    Sb = A @ A.T + 0.5 * np.eye(d)
    B = rng.standard_normal((d, d)) * 0.5
    Sw = B @ B.T + 0.2 * np.eye(d)
    m = rng.standard_normal(d)
    X, y = [], []
    for k in range(K):
        mu = rng.multivariate_normal(m, Sb)
        n = per[k % len(per)]
        X.append(rng.multivariate_normal(mu, Sw, size=n))
        y += [k] * n
    return np.vstack(X).astype(np.float32), np.array(y)


def _brute_llr(x1, x2, m, Sb, Sw):
    d = m.size
    tot = Sb + Sw
    same = np.block([[tot, Sb], [Sb, tot]])
    diff = np.block([[tot, np.zeros((d, d))], [np.zeros((d, d)), tot]])
    z = np.concatenate([x1, x2])
    mm = np.concatenate([m, m])
    return multivariate_normal(mm, same).logpdf(z) - multivariate_normal(mm, diff).logpdf(z)


def _brute_loglik(X, y, m, Sb, Sw):
    """Sum over identities of log N(stacked rows; [m..m], I(x)Sw + 11^T(x)Sb)."""
    total = 0.0
    for k in np.unique(y):
        rows = X[y == k].astype(np.float64)
        n, d = rows.shape
        cov = np.kron(np.eye(n), Sw) + np.kron(np.ones((n, n)), Sb)
        total += multivariate_normal(np.tile(m, n), cov).logpdf(rows.ravel())
    return total


def test_log_likelihood_matches_brute_force():
    X, y = _synthetic()
    stats = class_stats(X, y)
    m, Sb, Sw = scatter_init(stats)
    assert log_likelihood(stats, m, Sb, Sw) == pytest.approx(_brute_loglik(X, y, m, Sb, Sw), rel=1e-8)


def test_em_increases_likelihood_every_step():
    X, y = _synthetic(seed=1)
    stats = class_stats(X, y)
    m, Sb, Sw = scatter_init(stats)
    previous = _brute_loglik(X, y, m, Sb, Sw)
    for _ in range(8):
        m, Sb, Sw = em_step(stats, m, Sb, Sw)
        current = _brute_loglik(X, y, m, Sb, Sw)
        assert current >= previous - 1e-7
        previous = current


def test_em_recovers_generating_covariances():
    X, y = _synthetic(seed=2, K=600, d=3, per=(2, 4, 6))
    model = PLDA(normalize=False, n_iter=50, tol=0).fit(X, y)
    # compare with the truth used by _synthetic(seed=2)
    rng = np.random.default_rng(2)
    A = rng.standard_normal((3, 3))
    Sb_true = A @ A.T + 0.5 * np.eye(3)
    B = rng.standard_normal((3, 3)) * 0.5
    Sw_true = B @ B.T + 0.2 * np.eye(3)
    assert np.allclose(model.within_, Sw_true, atol=0.1 * np.abs(Sw_true).max())
    assert np.allclose(model.between_, Sb_true, atol=0.25 * np.abs(Sb_true).max())


def test_plda_score_is_the_exact_llr():
    X, y = _synthetic(seed=3)
    model = PLDA(normalize=False, n_iter=5).fit(X, y)
    rng = np.random.default_rng(0)
    Xa = rng.standard_normal((6, 4)).astype(np.float32) * 2
    Xb = rng.standard_normal((6, 4)).astype(np.float32) * 2
    fast = model.pair_score(Xa, Xb)
    m = model.mean_.astype(np.float64)
    brute = [_brute_llr(a.astype(np.float64), b.astype(np.float64), m, model.between_, model.within_)
             for a, b in zip(Xa, Xb)]
    assert np.allclose(fast, brute, rtol=1e-4, atol=1e-4)
    assert model.log_likelihood_[-1] >= model.log_likelihood_[0]


def test_joint_bayes_score_matches_chen_closed_form_and_brute_llr():
    X, y = _synthetic(seed=4)
    model = JointBayesian(normalize=False, n_iter=5).fit(X, y)
    S_mu, S_eps = model.S_mu_, model.S_eps_
    F = np.linalg.inv(S_eps)
    G = -np.linalg.inv(2 * S_mu + S_eps) @ S_mu @ F
    A = np.linalg.inv(S_mu + S_eps) - (F + G)
    rng = np.random.default_rng(1)
    Xa = rng.standard_normal((6, 4)).astype(np.float32)
    Xb = rng.standard_normal((6, 4)).astype(np.float32)
    fast = model.pair_score(Xa, Xb)
    c1 = Xa.astype(np.float64) - model.mean_
    c2 = Xb.astype(np.float64) - model.mean_
    chen = [a @ A @ a + b @ A @ b - 2 * a @ G @ b for a, b in zip(c1, c2)]
    assert np.allclose(fast, chen, rtol=1e-4, atol=1e-4)
    # r = 2 * LLR + constant
    zero = np.zeros(4)
    llr = np.array([_brute_llr(a, b, zero, S_mu, S_eps) for a, b in zip(c1, c2)])
    offset = 2 * llr - fast
    assert np.allclose(offset, offset[0], atol=1e-3)
    assert np.all(np.diff(model.log_likelihood_) >= -1e-6)


def test_two_covariance_needs_two_multi_image_identities():
    from facemetric.errors import InputError

    X = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    with pytest.raises(InputError, match="2 or more images"):
        PLDA().fit(X, [0, 0, 1, 2, 3])
