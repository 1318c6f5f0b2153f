"""All-vs-all TAR@FAR, streamed, against the exact value over every stored pair score."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from facemetric.errors import ConfigError, InputError
from facemetric.metrics import make_metric
from facemetric.verify.all_pairs import TopTail, all_pairs_tar_at_far, bin_lower_edges, score_keys
from facemetric.verify.curves import roc_auc, tar_at_far


def _data(n=1500, ids=150, dim=24, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, ids, n)
    X = (rng.standard_normal((ids, dim))[y] + 0.9 * rng.standard_normal((n, dim))).astype(np.float32)
    return X, np.array([f"p{k}" for k in y])


def _fitted(name, X, y):
    metric = make_metric(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return metric.fit(X, y) if name != "cosine" else metric.fit(X[:1])


def _exact(metric, X, y):
    order = np.argsort(y, kind="stable")  # the streamed pass scores pairs with rows sorted by identity
    Z = metric.prepare(X[order])
    S = (Z @ Z.T) if metric.dot_product_scores else metric.score_matrix(Z, Z)
    ia, ib = np.triu_indices(len(y), 1)
    labels = (y[order][ia] == y[order][ib]).astype(int)
    return labels, S[ia, ib]


@pytest.mark.parametrize("name", ["cosine", "plda", "kissme"])
def test_streamed_tar_at_far_is_exact_down_to_1e6(name):
    X, y = _data()
    metric = _fitted(name, X, y)
    labels, scores = _exact(metric, X, y)
    assert (labels == 0).sum() > 1_000_000  # FAR = 1e-6 is measurable: one false accept
    result = all_pairs_tar_at_far(metric, X, y, block=384)
    expected = tar_at_far(labels, scores)
    assert result.n_pairs == labels.size and result.n_genuine == int(labels.sum())
    for far, value in expected.items():
        assert result.exact[far]
        assert result.tar_at_far[far] == value, far  # the same definition, the same number
    assert result.auc == pytest.approx(roc_auc(labels, scores), abs=1e-5)


def test_histogram_reading_is_conservative_when_the_tail_does_not_fit():
    X, y = _data(n=900, seed=1)
    metric = _fitted("cosine", X, y)
    labels, scores = _exact(metric, X, y)
    result = all_pairs_tar_at_far(metric, X, y, block=256, tail_budget=8 * 400)  # a tail of 400 scores
    expected = tar_at_far(labels, scores)
    n_imp = int((labels == 0).sum())
    for far, value in expected.items():
        if np.isnan(value):
            assert np.isnan(result.tar_at_far[far])
            continue
        if far * n_imp + 1 <= 400:
            assert result.exact[far] and result.tar_at_far[far] == value
        else:
            assert not result.exact[far]
            assert value - 2e-3 <= result.tar_at_far[far] <= value
            fpr_at = np.mean(scores[labels == 0].astype(np.float32) >= np.float32(result.thresholds[far]))
            assert fpr_at <= far  # the histogram's threshold keeps the FAR promise


def test_without_the_histogram_the_figures_are_the_same():
    X, y = _data(n=700, seed=2)
    metric = _fitted("cosine", X, y)
    full = all_pairs_tar_at_far(metric, X, y, block=256)
    lean = all_pairs_tar_at_far(metric, X, y, block=256, histogram=False)
    np.testing.assert_equal(lean.tar_at_far, full.tar_at_far)
    assert np.isnan(lean.auc) and not np.isnan(full.auc)
    with pytest.raises(ConfigError, match="tail budget"):
        all_pairs_tar_at_far(metric, X, y, block=256, histogram=False, tail_budget=800)


def test_keys_order_like_scores_and_edges_invert_them():
    v = np.array([[-np.inf, -3.5, -1e-30, -0.0, 0.0, 1e-30, 0.25, 0.2500001, 7.0, np.inf]], np.float32)
    k = score_keys(v)[0]
    assert (np.diff(k) >= 0).all()
    edges = bin_lower_edges()
    finite = np.isfinite(v[0])
    assert (edges[k[finite]] <= v[0][finite]).all()


def test_top_tail_keeps_the_largest_values_exactly():
    rng = np.random.default_rng(3)
    tail = TopTail(1000, np.float64)
    data = np.round(rng.standard_normal(200_000), 2)  # many ties
    for chunk in np.array_split(data, 37):
        tail.add(chunk[chunk > tail.threshold])
    np.testing.assert_array_equal(tail.sorted(), np.sort(data)[::-1][:1000])


def test_refusals():
    X, y = _data(n=50)
    with pytest.raises(ConfigError, match="transductive"):
        all_pairs_tar_at_far(make_metric("test-center").fit(X, y), X, y)
    with pytest.raises(InputError, match="labels are empty"):
        all_pairs_tar_at_far(_fitted("cosine", X, y), X, np.array([""] * 50))
    with pytest.raises(InputError, match="identities with 2"):
        all_pairs_tar_at_far(_fitted("cosine", X, y), X, np.array([str(i) for i in range(50)]))


def test_tail_floor_is_below_the_mth_highest_score():
    from facemetric.verify.all_pairs import N_BINS, _tail_floor

    rng = np.random.default_rng(5)
    s = np.concatenate([rng.standard_normal(50_000), -rng.exponential(1, 1000), [0.0] * 20]).astype(np.float32)
    counts = np.bincount(score_keys(s[None, :]).ravel(), minlength=N_BINS)
    edges = bin_lower_edges()
    for m in (1, 7, 100, 20_000, 51_000):
        floor = _tail_floor(counts, edges, m)
        mth = np.sort(s)[::-1][m - 1]
        assert floor < mth and (s > floor).sum() <= m + 2 * counts.max()
    assert _tail_floor(counts, edges, s.size + 1) == -np.inf
