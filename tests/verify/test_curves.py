"""ROC/DET, AUC, EER and TAR@FAR against sklearn, scipy and brute-force loops."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import interp1d
from scipy.optimize import brentq
from sklearn import metrics as skm

from facemetric.errors import InputError
from facemetric.verify import det_curve, eer, far_key, roc_auc, roc_curve, tar_at_far


def make_scores(n_pos=300, n_neg=700, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
    s = np.r_[rng.normal(1.5, 1, n_pos), rng.normal(0, 1, n_neg)]
    if ties:
        s = np.round(s, 1)
    perm = rng.permutation(y.size)
    return y[perm], s[perm]


def brute_auc(y, s):
    pos, neg = s[y == 1], s[y == 0]
    wins = 0.0
    for p in pos:
        for q in neg:
            wins += 1.0 if p > q else 0.5 if p == q else 0.0
    return wins / (pos.size * neg.size)


@pytest.mark.parametrize("ties", [False, True])
def test_roc_auc_matches_sklearn_and_pair_counting(ties):
    y, s = make_scores(60, 90, seed=1, ties=ties)
    assert roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert roc_auc(y, s) == pytest.approx(brute_auc(y, s), abs=1e-12)


def test_roc_curve_matches_sklearn_without_dropping_points():
    y, s = make_scores(seed=2, ties=True)
    fpr, tpr, thr = roc_curve(y, s)
    sf, st, sthr = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sf)
    np.testing.assert_allclose(tpr, st)
    np.testing.assert_allclose(thr[1:], sthr[1:])
    assert thr[0] == np.inf


def test_roc_points_equal_brute_force_threshold_loop():
    y, s = make_scores(40, 50, seed=3, ties=True)
    fpr, tpr, thr = roc_curve(y, s)
    for f, t, th in zip(fpr[1:], tpr[1:], thr[1:]):
        accept = s >= th
        assert f == pytest.approx(np.mean(accept[y == 0]))
        assert t == pytest.approx(np.mean(accept[y == 1]))


def test_det_curve_matches_sklearn():
    y, s = make_scores(seed=4)
    fpr, fnr, thr = det_curve(y, s)
    sf, sn, sthr = skm.det_curve(y, s)
    # sklearn lists thresholds increasing and may stop early; compare on shared thresholds
    ours = dict(zip(thr.tolist(), zip(fpr.tolist(), fnr.tolist())))
    for f, n, t in zip(sf, sn, sthr):
        assert ours[t] == pytest.approx((f, n))


def test_eer_matches_brentq_on_interpolated_roc():
    y, s = make_scores(500, 800, seed=5)
    fpr, tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
    reference = brentq(lambda x: 1.0 - x - interp1d(fpr, tpr)(x), 0.0, 1.0)
    assert eer(y, s) == pytest.approx(reference, abs=1e-9)


def test_eer_closed_form_for_separable_and_random():
    y = np.array([0, 0, 1, 1])
    assert eer(y, np.array([0.1, 0.2, 0.8, 0.9])) == 0.0
    # all scores tied: the ROC is the diagonal, FPR = FNR = 0.5
    assert eer(y, np.zeros(4)) == pytest.approx(0.5)


def brute_tar(y, s, far):
    best = 0.0
    n_neg = (y == 0).sum()
    for t in np.r_[np.inf, np.unique(s)]:
        accept = s >= t
        if accept[y == 0].sum() / n_neg <= far:
            best = max(best, accept[y == 1].mean())
    return best


def test_tar_at_far_is_highest_tpr_under_the_target():
    y, s = make_scores(300, 2000, seed=6, ties=True)
    fars = (0.5, 0.1, 0.01, 1e-3, 1e-4)
    got = tar_at_far(y, s, fars)
    for far in fars[:-1]:
        assert got[far] == pytest.approx(brute_tar(y, s, far))
    assert np.isnan(got[1e-4])  # 1e-4 * 2000 negatives < one false accept


def test_tar_at_far_never_reads_the_nearest_fpr():
    # negatives at 0..9; FPR steps of 0.1. At far=0.15 the nearest point (FPR 0.2) must not be used.
    y = np.r_[np.zeros(10, int), np.ones(4, int)]
    s = np.r_[np.arange(10), [9.5, 8.5, 7.5, 0.5]]
    got = tar_at_far(y, s, (0.15, 0.1))
    assert got[0.15] == pytest.approx(0.5)  # threshold 8.5: 1 false accept (FPR .1), 2 of 4 true accepts
    assert got[0.1] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "y,s,msg",
    [
        ([], [], "empty"),
        ([1, 1, 1], [0.1, 0.2, 0.3], "all 3 labels"),
        ([0, 0], [0.1, 0.2], "all 2 labels"),
        ([0, 1], [0.1, np.nan], "NaN"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "labels must be 0"),
        ([0, 1], [0.1], "1 scores"),
    ],
)
def test_bad_inputs_raise_one_line(y, s, msg):
    for fn in (roc_auc, eer, roc_curve, det_curve, tar_at_far):
        with pytest.raises(InputError, match=msg) as info:
            fn(np.asarray(y), np.asarray(s, dtype=float))
        assert "\n" not in str(info.value)


def test_bad_far_target():
    with pytest.raises(InputError, match="fars"):
        tar_at_far([0, 1], [0.0, 1.0], fars=(0.0,))


def test_far_key():
    assert [far_key(f) for f in (1e-1, 1e-3, 1e-6, 0.05)] == ["1e-1", "1e-3", "1e-6", "5e-2"]
