"""Bootstrap CIs, the paired test and evaluate_scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facemetric.errors import ConfigError, InputError
from facemetric.verify import (
    bootstrap_cis,
    eer,
    evaluate_scores,
    kfold_accuracy,
    paired_test,
    roc_auc,
    tar_at_far,
)
from facemetric.verify.accuracy import FoldPlan
from facemetric.verify.bootstrap import curve_metrics, replicate_weights
from facemetric.verify.curves import SortedScores


def data(n=600, seed=0, shift=1.5):
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n // 2, int), np.zeros(n - n // 2, int)]
    s = rng.normal(y * shift, 1.0)
    return y, s


def test_weighted_replicate_equals_explicit_resample():
    """The O(n) weight trick gives exactly the figures of the resampled arrays."""
    y, s = data(300, seed=1)
    folds = np.arange(y.size) % 5
    curve = SortedScores(y, s)
    plan = FoldPlan(curve, folds)
    for w in replicate_weights(y.size, 3, seed=3):
        idx = np.repeat(np.arange(y.size), w.astype(int))
        m = curve_metrics(curve, w, (0.1, 0.01))
        assert m["auc"] == pytest.approx(roc_auc(y[idx], s[idx]), abs=1e-12)
        assert m["eer"] == pytest.approx(eer(y[idx], s[idx]), abs=1e-12)
        tar = tar_at_far(y[idx], s[idx], (0.1, 0.01))
        assert m["tar_at_far"][0.1] == pytest.approx(tar[0.1])
        accs, _ = plan.evaluate(w)
        ref = kfold_accuracy(y[idx], s[idx], folds[idx])
        np.testing.assert_allclose(accs, ref.per_fold, atol=1e-12)


def test_auc_ci_width_matches_hanley_mcneil():
    y, s = data(2000, seed=2)
    cis = bootstrap_cis(y, s, n_bootstrap=400, seed=0, fars=())
    auc = roc_auc(y, s)
    n1, n2 = y.sum(), (1 - y).sum()
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    se = np.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n2 - 1) * (q2 - auc**2)) / (n1 * n2))
    lo, hi = cis["auc"]
    assert lo < auc < hi
    assert (hi - lo) == pytest.approx(2 * 1.96 * se, rel=0.2)


def test_bootstrap_is_seeded():
    y, s = data(400, seed=3)
    a = bootstrap_cis(y, s, n_bootstrap=50, seed=1)
    b = bootstrap_cis(y, s, n_bootstrap=50, seed=1)
    c = bootstrap_cis(y, s, n_bootstrap=50, seed=2)
    assert json.dumps(a, default=str) == json.dumps(b, default=str)
    assert a["auc"] != c["auc"]


def test_evaluate_scores_agrees_with_the_single_functions():
    y, s = data(1000, seed=4)
    folds = np.arange(y.size) % 10
    res = evaluate_scores(y, s, folds, n_bootstrap=100, seed=0)
    assert res.auc == roc_auc(y, s)
    assert res.eer == eer(y, s)
    assert res.accuracy == kfold_accuracy(y, s, folds).mean
    assert res.tar_at_far[1e-2] == tar_at_far(y, s)[1e-2]
    d = res.to_dict()
    assert {"auc", "accuracy", "accuracy_std", "eer", "tar_at_far", "n_pairs", "cis"} <= set(d)
    assert set(d["tar_at_far"]) == {"1e-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6"}
    assert d["tar_at_far"]["1e-6"] is None and d["n_pairs"] == 1000
    json.dumps(d, allow_nan=False)
    lo, hi = d["cis"]["accuracy"]
    assert lo <= res.accuracy <= hi


def test_evaluate_scores_without_folds_or_bootstrap():
    y, s = data(200, seed=5)
    res = evaluate_scores(y, s, n_bootstrap=0, seed=3)
    assert res.cis == {} and res.kfold.per_fold.size == 10 and not res.folds_from_protocol


@pytest.mark.parametrize("y,s", [(np.array([], int), np.array([])), (np.ones(5, int), np.arange(5.0))])
def test_evaluate_scores_rejects_empty_and_one_class(y, s):
    with pytest.raises(InputError):
        evaluate_scores(y, s)


def test_bad_bootstrap_parameters():
    y, s = data(100)
    with pytest.raises(ConfigError, match="n_bootstrap"):
        evaluate_scores(y, s, n_bootstrap=-1)
    with pytest.raises(ConfigError, match="metric"):
        paired_test(y, s, s, metric="f1", n_bootstrap=5)


def test_paired_test_identical_and_clearly_different_systems():
    y, strong = data(1000, seed=6, shift=2.5)
    rng = np.random.default_rng(0)
    weak = strong + rng.normal(0, 2.0, strong.size)
    same = paired_test(y, strong, strong, n_bootstrap=200, seed=0)
    assert same.difference == 0 and same.p_value == 1.0
    diff = paired_test(y, strong, weak, n_bootstrap=300, seed=0)
    assert diff.difference == pytest.approx(roc_auc(y, strong) - roc_auc(y, weak))
    assert diff.p_value < 0.01 and diff.ci[0] > 0
    close = paired_test(y, strong, strong + rng.normal(0, 1e-3, strong.size), n_bootstrap=200, seed=0)
    assert close.p_value > 0.05
    t = paired_test(y, strong, weak, metric="tar@1e-2", n_bootstrap=50, seed=0)
    assert t.metric == "tar@1e-2" and t.difference == pytest.approx(
        tar_at_far(y, strong, (1e-2,))[1e-2] - tar_at_far(y, weak, (1e-2,))[1e-2]
    )
    e = paired_test(y, strong, weak, metric="eer", n_bootstrap=50, seed=0)
    assert e.difference < 0


def test_evaluate_scores_rejects_bad_far_targets():
    y, s = data(100)
    with pytest.raises(InputError, match="The 'fars' parameter must hold values in \\(0, 1\\]"):
        evaluate_scores(y, s, fars=(1e-3, 2.0), n_bootstrap=0)


def test_progress_callback_counts_replicates():
    y, s = data(200)
    ticks = []
    evaluate_scores(y, s, n_bootstrap=7, progress=ticks.append)
    assert ticks == [1] * 7
