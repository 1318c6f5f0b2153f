"""Joint Bayesian and PLDA against brute-force Gaussian references on tiny synthetic data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from facemetric.metrics import JointBayesian, PLDA
from facemetric.errors import InputError
from facemetric.metrics.two_covariance import (
    class_stats,
    diagonalize,
    em_step,
    identity_weights,
    log_likelihood,
    scatter_init,
)


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
    plain = dict(normalize=False, recenter=False, shrinkage=0.0, max_per_identity=None)
    model = PLDA(n_iter=50, tol=0, **plain).fit(X, y)
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
    model = PLDA(normalize=False, recenter=False, n_iter=5, shrinkage=0.0).fit(X, y)
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
    model = JointBayesian(normalize=False, recenter=False, n_iter=5, shrinkage=0.0).fit(X, y)
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
    X = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    with pytest.raises(InputError, match="2 or more images"):
        PLDA().fit(X, [0, 0, 1, 2, 3])


def _long_tailed(seed=5, d=4):
    """Identities with 1, 2, 3 images plus two with many: the shape of LFW."""
    X, y = _synthetic(seed=seed, K=30, d=d, per=(1, 2, 3))
    Xb, yb = _synthetic(seed=seed + 100, K=2, d=d, per=(40, 25))
    return np.vstack([X, Xb]), np.concatenate([y, yb + 1000])


def _brute_weighted_loglik(X, y, m, Sb, Sw, cap):
    total = 0.0
    for k in np.unique(y):
        n = int((y == k).sum())
        w = 1.0 if cap is None else min(1.0, cap / n)
        total += w * _brute_loglik(X[y == k], y[y == k], m, Sb, Sw)
    return total


def test_identity_weights_cap_large_identities():
    counts = np.array([1.0, 2.0, 5.0, 50.0])
    assert np.allclose(identity_weights(counts, 5), [1, 1, 1, 0.1])
    assert np.allclose(identity_weights(counts, None), 1)


@pytest.mark.parametrize("cap", [None, 2, 5])
def test_weighted_log_likelihood_matches_brute_force(cap):
    X, y = _long_tailed()
    stats = class_stats(X, y, cap)
    m, Sb, Sw = scatter_init(stats, shrinkage=0.2)
    ll = log_likelihood(stats, m, Sb, Sw)
    assert ll == pytest.approx(_brute_weighted_loglik(X, y, m, Sb, Sw, cap), rel=1e-8)


def test_weighted_em_increases_weighted_likelihood_every_step():
    X, y = _long_tailed(seed=6)
    stats = class_stats(X, y, 3)
    m, Sb, Sw = scatter_init(stats)
    previous = _brute_weighted_loglik(X, y, m, Sb, Sw, 3)
    for _ in range(8):
        m, Sb, Sw = em_step(stats, m, Sb, Sw)
        current = _brute_weighted_loglik(X, y, m, Sb, Sw, 3)
        assert current >= previous - 1e-7
        previous = current


def test_weighted_scatter_init_matches_explicit_weighted_estimates():
    X, y = _long_tailed(seed=7)
    cap = 4
    m, Sb, Sw = scatter_init(class_stats(X, y, cap))
    ids = np.unique(y)
    w = np.array([min(1.0, cap / (y == k).sum()) for k in ids])
    means = np.array([X[y == k].astype(np.float64).mean(axis=0) for k in ids])
    m_ref = (w[:, None] * means).sum(axis=0) / w.sum()
    Sb_ref = sum(wk * np.outer(mk - m_ref, mk - m_ref) for wk, mk in zip(w, means)) / w.sum()
    within = sum(wk * (X[y == k] - mk).T.astype(np.float64) @ (X[y == k] - mk)
                 for wk, k, mk in zip(w, ids, means))
    Sw_ref = within / sum(wk * ((y == k).sum() - 1) for wk, k in zip(w, ids))
    Sw_ref += 1e-6 * np.trace(Sw_ref) / Sw_ref.shape[0] * np.eye(Sw_ref.shape[0])  # the ridge floor
    assert np.allclose(m, m_ref) and np.allclose(Sb, Sb_ref) and np.allclose(Sw, Sw_ref, rtol=1e-6)


def test_cap_at_or_above_the_largest_identity_changes_nothing():
    X, y = _long_tailed(seed=8)
    a = PLDA(normalize=False, max_per_identity=None, n_iter=3).fit(X, y)
    b = PLDA(normalize=False, max_per_identity=40, n_iter=3).fit(X, y)
    assert np.allclose(a.within_, b.within_) and np.allclose(a.between_, b.between_)
    c = PLDA(normalize=False, max_per_identity=2, n_iter=3).fit(X, y)
    assert not np.allclose(a.within_, c.within_)


def test_shrinkage_shrinks_the_within_covariance_only():
    X, y = _long_tailed(seed=9)
    stats = class_stats(X, y)
    _, Sb0, Sw0 = scatter_init(stats, 0.0)
    _, Sb1, Sw1 = scatter_init(stats, 0.5)
    d = Sw0.shape[0]
    assert np.allclose(Sb1, Sb0)
    assert np.allclose(Sw1, 0.5 * Sw0 + 0.5 * np.trace(Sw0) / d * np.eye(d), rtol=1e-5)
    assert np.linalg.cond(Sw1) < np.linalg.cond(Sw0)
    model = JointBayesian(normalize=False, recenter=False, shrinkage=0.5, n_iter=4).fit(X, y)
    assert np.linalg.cond(model.S_eps_) < np.linalg.cond(Sw0)


@pytest.mark.parametrize("cls", [JointBayesian, PLDA])
@pytest.mark.parametrize("shrinkage", [0.0, 0.3])
def test_rank_deficient_within_scatter_fits_without_linalg_error(cls, shrinkage):
    # 16-d descriptors, 2 identities with 2 images (within scatter of rank 2) and 30 singletons:
    # S_w is singular; the ridge floor keeps the model defined instead of a scipy LinAlgError.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((34, 16)).astype(np.float32)
    y = np.array([0, 0, 1, 1] + list(range(2, 32)))
    model = cls(shrinkage=shrinkage, max_per_identity=None).fit(X, y)
    s = model.pair_score(X[:5], X[5:10])
    assert np.all(np.isfinite(s))


def test_identical_images_per_identity_raise_a_clear_error():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((3, 4)).astype(np.float32)
    X = np.repeat(base, 2, axis=0)
    with pytest.raises(InputError, match="within-identity covariance is zero"):
        PLDA(normalize=False, recenter=False, shrinkage=0.0).fit(X, [0, 0, 1, 1, 2, 2])


def test_non_positive_definite_within_covariance_is_an_input_error():
    with pytest.raises(InputError, match="two-covariance model is degenerate"):
        diagonalize(np.eye(3), np.diag([1.0, 0.0, -1.0]))


def test_max_per_identity_is_checked():
    from facemetric.errors import ConfigError

    X, y = _synthetic()
    expected = "'max_per_identity' parameter of JointBayesian must be None or an int >= 1"
    with pytest.raises(ConfigError, match=expected):
        JointBayesian(max_per_identity=0).fit(X, y)


@pytest.mark.parametrize("cls", [JointBayesian, PLDA])
def test_recenter_is_the_model_on_recentred_unit_descriptors(cls):
    from facemetric.metrics.base import l2_normalize

    X, y = _long_tailed(seed=10, d=6)
    Z = l2_normalize(X)
    Zr = l2_normalize(Z - Z.mean(axis=0, dtype=np.float64).astype(np.float32))
    a = cls(recenter=True).fit(X, y)
    b = cls(recenter=False, normalize=False).fit(Zr, y)
    rng = np.random.default_rng(3)
    Xa, Xb = rng.standard_normal((2, 8, 6)).astype(np.float32)
    Za = l2_normalize(l2_normalize(Xa) - a.recenter_mean_)
    Zb = l2_normalize(l2_normalize(Xb) - a.recenter_mean_)
    assert np.allclose(a.pair_score(Xa, Xb), b.pair_score(Za, Zb), rtol=1e-4, atol=1e-4)
