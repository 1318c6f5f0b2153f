"""Per-fold paired comparison against sklearn's AUC and scipy's sign-flip permutation test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from facemetric.verify.fold_comparison import compare_per_fold, sign_flip_p_value


def _protocol(rng, n_folds=10, per_fold=60):
    y = np.tile(np.r_[np.ones(per_fold // 2), np.zeros(per_fold // 2)], n_folds).astype(int)
    folds = np.repeat(np.arange(n_folds), per_fold)
    return y, folds


def test_per_fold_change_against_sklearn_and_scipy():
    rng = np.random.default_rng(3)
    y, folds = _protocol(rng)
    ref = y * 1.0 + rng.normal(0, 1.0, y.size)
    better = y * 1.6 + rng.normal(0, 1.0, y.size)
    # each fold on a scale of its own: the per-fold comparison does not see it
    scaled = better * (1 + folds) + 100 * folds
    res = compare_per_fold(y, scaled, ref, folds)
    expect = []
    for f in range(10):
        m = folds == f
        e, e0 = 1 - roc_auc_score(y[m], better[m]), 1 - roc_auc_score(y[m], ref[m])
        expect.append((e - e0) / e0)
    np.testing.assert_allclose(res.per_fold, expect)
    assert res.mean == pytest.approx(np.mean(expect))
    assert res.se == pytest.approx(np.std(expect, ddof=1) / np.sqrt(10))
    ref_p = stats.permutation_test((np.array(expect),), np.mean, permutation_type="samples",
                                   alternative="two-sided", n_resamples=np.inf).pvalue
    assert res.p_value == pytest.approx(ref_p)
    assert res.p_value_floor == pytest.approx(2 / 1024) and res.mean < 0


def test_sign_flip_floor_and_null():
    p, floor = sign_flip_p_value(-np.arange(1.0, 11.0))  # every fold better: the smallest p there is
    assert p == pytest.approx(2 / 1024) == floor
    rng = np.random.default_rng(0)
    # under the null (symmetric changes) p < 0.05 in about 5% of protocols
    hits = [sign_flip_p_value(rng.normal(0, 1, 10))[0] < 0.05 for _ in range(400)]
    assert 0.02 < np.mean(hits) < 0.09


def test_a_fold_without_reference_errors_is_left_out():
    rng = np.random.default_rng(1)
    y, folds = _protocol(rng, n_folds=4)
    ref = y + rng.normal(0, 1, y.size)
    ref[folds == 2] = y[folds == 2]  # perfect on fold 2
    res = compare_per_fold(y, y + rng.normal(0, 1, y.size), ref, folds)
    assert res.folds.tolist() == [0, 1, 3] and res.per_fold.size == 3
