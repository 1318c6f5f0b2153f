"""Closed-form methods against independent references (scikit-learn, brute-force loops)."""

from __future__ import annotations


import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import roc_auc_score

from facemetric.errors import ConfigError
from facemetric.metrics import CLOSED_FORM, KISSME, LDA, WCCN, Center, Cosine, PCAWhitening, make_metric

from ._synthetic import all_pairs, make_identities


def test_make_metric_lists_known_names_and_params():
    with pytest.raises(ConfigError, match="known metrics: .*lda"):
        make_metric("no-such-method")
    with pytest.raises(ConfigError, match="has no parameter 'bogus'.*shrinkage"):
        make_metric("lda", bogus=1)
    assert make_metric("lda", shrinkage=0.5).shrinkage == 0.5


def test_bad_parameter_value_reads_like_sklearn():
    X, y = make_identities()
    msg = "The 'shrinkage' parameter of LDA must be a float in \\[0, 1\\]. Got 2"
    with pytest.raises(ConfigError, match=msg):
        LDA(shrinkage=2).fit(X, y)


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_learned_methods_beat_cosine_on_anisotropic_noise(name):
    """Within-identity noise concentrated on a few axes: every supervised method must gain on cosine."""
    X, y = make_identities(seed=1)
    Xt, yt = make_identities(seed=2)
    ia, ib, same = all_pairs(yt)
    metric = make_metric(name).fit(X, y)
    auc = roc_auc_score(same, metric.score_pairs(Xt, ia, ib))
    base = roc_auc_score(same, Cosine().fit(X).score_pairs(Xt, ia, ib))
    assert auc > 0.85
    if name not in ("center", "pca-whiten"):  # unsupervised ones cannot know the noise axes
        assert auc > base
    np.testing.assert_allclose(metric.score_pairs(Xt, ia[:50], ib[:50]),
                               metric.pair_score(Xt[ia[:50]], Xt[ib[:50]]), rtol=1e-5, atol=1e-5)


def test_center_is_cosine_after_subtracting_the_mean():
    X, y = make_identities()
    m = Center().fit(X)
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    mu = Z.mean(axis=0)
    a, b = Z[:10] - mu, Z[10:20] - mu
    brute = [u @ v / np.linalg.norm(u) / np.linalg.norm(v) for u, v in zip(a, b)]
    np.testing.assert_allclose(m.pair_score(X[:10], X[10:20]), brute, rtol=1e-5, atol=1e-6)


def test_pca_whitening_gives_identity_covariance():
    X, _ = make_identities(n_ids=100)
    m = PCAWhitening(power=0.5, reg=0.0, normalize=False).fit(X)
    U = (X - m.mean_) @ m.components_.T
    np.testing.assert_allclose(np.cov(U.T), np.eye(U.shape[1]), atol=2e-3)
    assert PCAWhitening(n_components=5).fit(X).transform(X).shape == (X.shape[0], 5)


def test_lda_matches_sklearn_eigen_solver():
    X, y = make_identities(n_ids=8, per_id=20, dim=12)
    ours = LDA(shrinkage=0.0, whiten=False, normalize=False).fit(X, y)
    ref = LinearDiscriminantAnalysis(solver="eigen").fit(X, y)
    k = ours.components_.shape[0]
    assert k == 7  # n_classes - 1
    # same discriminant axes (unit length), up to sign
    axes = ref.scalings_[:, :k] / np.linalg.norm(ref.scalings_[:, :k], axis=0)
    overlap = np.abs(np.sum(ours.components_.T * axes, axis=0))  # |cos| of matching axes
    np.testing.assert_allclose(overlap, np.ones(k), atol=1e-4)


def test_lda_whitened_axes_make_within_covariance_identity():
    X, y = make_identities(n_ids=30, per_id=10, dim=8)
    m = LDA(shrinkage=0.0, normalize=False).fit(X, y)
    U = (X - m.mean_) @ m.components_.T
    codes = np.unique(y, return_inverse=True)[1]
    R = U - np.stack([U[codes == c].mean(axis=0) for c in range(30)])[codes]
    np.testing.assert_allclose(R.T @ R / len(R), np.eye(U.shape[1]), atol=1e-4)


def test_wccn_normalises_within_class_covariance():
    X, y = make_identities(n_ids=30, per_id=10, dim=8)
    m = WCCN(shrinkage=0.0, balanced=False, normalize=False, center=False).fit(X, y)
    codes = np.unique(y, return_inverse=True)[1]
    R = X - np.stack([X[codes == c].mean(axis=0) for c in range(30)])[codes]
    B = m.components_.T
    np.testing.assert_allclose(B.T @ (R.T @ R / len(R)) @ B, np.eye(8), atol=1e-4)


def test_balanced_wccn_weights_every_identity_equally():
    X, y = make_identities(n_ids=20, per_id=4, dim=6)
    X = np.vstack([X, X[:1] + np.random.default_rng(0).standard_normal((40, 6)).astype(np.float32)])
    y = np.concatenate([y, np.repeat(y[:1], 40)])  # one identity with many more images
    m = WCCN(shrinkage=0.0, balanced=True, normalize=False, center=False).fit(X, y)
    Sw = np.mean([np.cov(X[y == k].T) for k in np.unique(y)], axis=0)
    B = m.components_.T
    np.testing.assert_allclose(B.T @ Sw @ B, np.eye(6), atol=1e-4)


def test_kissme_matches_brute_force_pairs():
    X, y = make_identities(n_ids=12, per_id=4, dim=5)
    m = KISSME(n_components=None, normalize=False, n_negative_pairs=300, reg=0.0, seed=3).fit(X, y)
    Xc = X.astype(np.float64) - m.mean_
    same = [Xc[i] - Xc[j] for i in range(len(y)) for j in range(i + 1, len(y)) if y[i] == y[j]]
    S_same = np.mean([np.outer(d, d) for d in same], axis=0)
    rng = np.random.default_rng(3)
    ia, ib = rng.integers(0, len(y), 600), rng.integers(0, len(y), 600)
    keep = y[ia] != y[ib]
    ia, ib = ia[keep][:300], ib[keep][:300]
    S_diff = np.mean([np.outer(d, d) for d in Xc[ia] - Xc[ib]], axis=0)
    M = np.linalg.inv(S_same) - np.linalg.inv(S_diff)
    w, V = np.linalg.eigh(M)
    M = (V * np.clip(w, 0, None)) @ V.T
    a, b = X[:6], X[6:12]
    brute = [-(u - v) @ M @ (u - v) for u, v in zip(a.astype(np.float64), b.astype(np.float64))]
    np.testing.assert_allclose(m.pair_score(a, b), brute, rtol=1e-3)


def test_seeded_methods_are_reproducible():
    X, y = make_identities()
    s1 = KISSME(seed=5, n_negative_pairs=500).fit(X, y).pair_score(X[:5], X[5:10])
    s2 = KISSME(seed=5, n_negative_pairs=500).fit(X, y).pair_score(X[:5], X[5:10])
    np.testing.assert_array_equal(s1, s2)
