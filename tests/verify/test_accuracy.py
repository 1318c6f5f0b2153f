"""k-fold accuracy: threshold from the other folds only, checked with brute-force loops."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.errors import InputError
from facemetric.verify import best_threshold, kfold_accuracy, make_folds


def scores(seed=0, n=400, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = rng.normal(y * 1.2, 1.0)
    return y, (np.round(s, 1) if ties else s)


def brute_best_train_accuracy(y, s):
    cands = np.r_[np.inf, np.unique(s), -np.inf]
    return max(((s >= t) == (y == 1)).mean() for t in cands)


@pytest.mark.parametrize("ties", [False, True])
def test_threshold_reaches_brute_force_optimum(ties):
    y, s = scores(1, ties=ties)
    t = best_threshold(y, s)
    assert ((s >= t) == (y == 1)).mean() == pytest.approx(brute_best_train_accuracy(y, s))


@pytest.mark.parametrize("ties", [False, True])
def test_kfold_uses_only_other_folds(ties):
    y, s = scores(2, n=500, ties=ties)
    folds = np.arange(y.size) % 5
    res = kfold_accuracy(y, s, folds)
    expected = []
    for k in range(5):
        train, test = folds != k, folds == k
        # brute force: every candidate threshold on the training folds; the test fold is never looked at
        cands = np.r_[np.inf, np.unique(s[train]), -np.inf]
        accs = [((s[train] >= t) == (y[train] == 1)).mean() for t in cands]
        best = max(accs)
        t = res.thresholds[k]
        assert ((s[train] >= t) == (y[train] == 1)).mean() == pytest.approx(best)
        expected.append(((s[test] >= t) == (y[test] == 1)).mean())
    np.testing.assert_allclose(res.per_fold, expected)
    assert res.mean == pytest.approx(np.mean(expected))
    assert res.std == pytest.approx(np.std(expected))
    assert res.se == pytest.approx(np.std(expected, ddof=1) / np.sqrt(5))


def test_held_out_fold_does_not_influence_its_threshold():
    y, s = scores(3, n=300)
    folds = np.arange(y.size) % 3
    base = kfold_accuracy(y, s, folds)
    s2 = s.copy()
    s2[folds == 0] = -s2[folds == 0]  # scramble fold 0 only
    changed = kfold_accuracy(y, s2, folds)
    assert changed.thresholds[0] == base.thresholds[0]


def test_threshold_is_midpoint_between_scores():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.0, 1.0, 3.0, 4.0])
    assert best_threshold(y, s) == pytest.approx(2.0)


def test_default_folds_are_stratified_and_seeded():
    y, s = scores(4, n=1000)
    f1 = make_folds(y, seed=7)
    assert np.array_equal(f1, make_folds(y, seed=7))
    assert not np.array_equal(f1, make_folds(y, seed=8))
    assert np.unique(f1).size == 10
    for k in range(10):
        share = y[f1 == k].mean()
        assert abs(share - y.mean()) < 0.02
    res = kfold_accuracy(y, s, None, seed=7)
    assert res.per_fold.size == 10


def test_bad_folds():
    y, s = scores(5, n=50)
    with pytest.raises(InputError, match="at least 2 folds"):
        kfold_accuracy(y, s, np.zeros(50, int))
    with pytest.raises(InputError, match="one per pair"):
        kfold_accuracy(y, s, np.zeros(10, int))
    with pytest.raises(InputError, match="at least 2 matched"):
        kfold_accuracy(np.r_[1, np.zeros(9, int)], np.arange(10.0))
