"""Test-set centring and k-reciprocal re-ranking: brute-force references and the transductive contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.errors import ConfigError, InputError
from facemetric.metrics import METHODS, make_metric
from facemetric.metrics.persist import load_model, save_model
from facemetric.metrics.sampling import sample_pairs
from facemetric.normalize import KReciprocalRerank, TestCenter


def clustered(n_ids: int = 25, per_id: int = 5, dim: int = 8, noise: float = 0.9, shift: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_ids), per_id)
    X = rng.normal(size=(n_ids, dim))[y] + noise * rng.normal(size=(y.size, dim)) + shift
    return X.astype(np.float32), np.array([f"s{seed}p{i}" for i in y])


def unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def rerank_by_hand(X, k1, k2, weight):
    """Zhong et al. 2017 written plainly: dense matrices, full sorts, Python sets."""
    n = len(X)
    S = unit(X) @ unit(X).T
    D = S.max() - S
    np.fill_diagonal(D, 0)
    D = D / D.max(axis=1, keepdims=True)
    rank = np.argsort(D, axis=1, kind="stable")

    def recip(i, k):
        return [j for j in rank[i, : k + 1] if i in rank[j, : k + 1]]

    V = np.zeros((n, n))
    for i in range(n):
        R = recip(i, k1)
        members = set(R)
        for c in R:
            Rc = recip(c, int(round(k1 / 2)))
            if len(set(Rc) & set(R)) > 2 / 3 * len(Rc):
                members |= set(Rc)
        idx = sorted(members)
        w = np.exp(-D[i, idx])
        V[i, idx] = w / w.sum()
    if k2 > 1:
        V = np.stack([V[rank[i, :k2]].mean(axis=0) for i in range(n)])
    final = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            jac = 1 - np.minimum(V[i], V[j]).sum() / np.maximum(V[i], V[j]).sum()
            final[i, j] = (1 - weight) * jac + weight * 0.5 * (D[i, j] + D[j, i])
    return final


def test_registered_and_flagged():
    assert METHODS["test-center"] is TestCenter and METHODS["k-reciprocal"] is KReciprocalRerank
    assert TestCenter.transductive and KReciprocalRerank.transductive
    assert not METHODS["s-norm"].transductive


def test_test_center_matches_centring_by_hand():
    X, y = clustered()
    T, _ = clustered(seed=1, shift=2.0)
    tc = TestCenter().fit(X, y)
    ia, ib = np.array([0, 3, 7, 11]), np.array([1, 20, 8, 40])
    rows = np.unique(np.concatenate([ia, ib]))
    mean = unit(T[rows]).mean(axis=0)  # the test set: the images that the pairs name
    expected = [float(unit((unit(T[[a]]) - mean))[0] @ unit(unit(T[[b]]) - mean)[0]) for a, b in zip(ia, ib)]
    np.testing.assert_allclose(tc.score_pairs(T, ia, ib), expected, rtol=1e-5)
    # pair_score sees the same test set (each distinct descriptor once)
    np.testing.assert_allclose(tc.pair_score(T[ia], T[ib]), expected, rtol=1e-5)


def test_rows_no_pair_names_do_not_matter():
    X, y = clustered()
    T, _ = clustered(seed=1)
    ia, ib = np.arange(0, 60, 2), np.arange(1, 61, 2)
    for metric in (TestCenter().fit(X, y), KReciprocalRerank(k1=4, k2=2).fit(X, y)):
        full = metric.score_pairs(T, ia, ib)
        only = metric.score_pairs(T[:61], ia, ib)
        np.testing.assert_allclose(full, only)
        np.testing.assert_allclose(metric.pair_score(T[ia], T[ib]), full, rtol=1e-5, atol=1e-6)


def test_test_center_wraps_a_learned_metric(tmp_path):
    X, y = clustered()
    tc = TestCenter(metric="lda").fit(X, y)
    T, _ = clustered(seed=2)
    got = tc.score_pairs(T, np.arange(10), np.arange(10, 20))
    lda = make_metric("lda").fit(unit(X) - unit(X).mean(axis=0), y)
    rows = np.arange(20)
    Tc = unit(T[rows]) - unit(T[rows]).mean(axis=0)
    np.testing.assert_allclose(got, lda.pair_score(Tc[:10], Tc[10:20]), rtol=1e-5, atol=1e-6)
    save_model(tc, tmp_path / "m")
    np.testing.assert_allclose(load_model(tmp_path / "m").score_pairs(T, np.arange(10), np.arange(10, 20)), got)


@pytest.mark.parametrize(("k1", "k2", "weight"), [(4, 1, 0.3), (5, 3, 0.3), (6, 2, 0.0), (3, 3, 1.0)])
def test_rerank_matches_a_plain_implementation(k1, k2, weight):
    X, y = clustered()
    T, _ = clustered(n_ids=10, per_id=4, seed=3)
    rr = KReciprocalRerank(k1=k1, k2=k2, original_weight=weight).fit(X, y)
    ia, ib = np.triu_indices(T.shape[0], 1)
    expected = rerank_by_hand(T, k1, k2, weight)[ia, ib]
    np.testing.assert_allclose(rr.score_pairs(T, ia, ib), -expected, rtol=1e-4, atol=1e-5)


def test_rerank_helps_when_people_have_several_test_images():
    X, y = clustered(dim=32, noise=1.3)
    T, yt = clustered(n_ids=40, per_id=6, dim=32, noise=1.3, seed=4)
    ia, ib, same = sample_pairs(yt, 3000, seed=0)
    cosine = roc_auc_score(same, make_metric("cosine").fit(X, y).score_pairs(T, ia, ib))
    rerank = roc_auc_score(same, KReciprocalRerank(k1=5, k2=3).fit(X, y).score_pairs(T, ia, ib))
    assert rerank > cosine + 0.01, (rerank, cosine)


def test_bad_inputs():
    X, y = clustered()
    with pytest.raises(ConfigError, match="'k1'"):
        KReciprocalRerank(k1=0).fit(X, y)
    with pytest.raises(ConfigError, match="original_weight"):
        KReciprocalRerank(original_weight=2.0).fit(X, y)
    rr = KReciprocalRerank(max_images=10).fit(X, y)
    with pytest.raises(InputError, match="max_images"):
        rr.score_pairs(X, np.arange(10), np.arange(10, 20))
    with pytest.raises(InputError, match="dimension"):
        TestCenter().fit(X, y).pair_score(X[:3, :4], X[3:6, :4])
    with pytest.raises(InputError, match="row"):
        TestCenter().fit(X, y).score_pairs(X, np.array([0]), np.array([10_000]))
