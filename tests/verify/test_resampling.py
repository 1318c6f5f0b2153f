"""The bootstrap engine against brute force: explicit resampling, sklearn, slow loops."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from facemetric.errors import ConfigError, InputError
from facemetric.verify import bootstrap_cis, evaluate_scores, paired_test
from facemetric.verify.accuracy import FoldPlan
from facemetric.verify.bootstrap import (
    curve_metrics,
    exact_figures,
    operating_fars,
    percentile_ci,
    run_replicates,
)
from facemetric.verify.curves import SortedScores
from facemetric.verify.replicates import ReplicatePlan, unit_draws
from facemetric.verify.units import NO_UNIT, resampling_units


def protocol(seed=0, n_id=40, n_gen=150, n_imp=150, effect=0.4, ties=False):
    """Pairs over few identities (so they share people), with per-identity score shifts."""
    rng = np.random.default_rng(seed)
    ga = rng.integers(0, n_id, n_gen)
    ia = rng.integers(0, n_id, n_imp)
    ib = (ia + rng.integers(1, n_id, n_imp)) % n_id
    a, b = np.r_[ga, ia], np.r_[ga, ib]
    y = np.r_[np.ones(n_gen, np.int8), np.zeros(n_imp, np.int8)]
    u = rng.normal(0, effect, n_id)
    s = np.where(y == 1, 1.5 + u[a], u[a] + u[b]) + rng.normal(0, 1, y.size)
    if ties:
        s = np.round(s, 1)
    folds = a % 5
    return y, s, a, b, folds


def tpr_at_reference(y, s, w, target):
    """TPR of the weighted ROC polyline at FPR = target, from sklearn's curve (no intermediate drop)."""
    fpr, tpr, _ = roc_curve(y, s, sample_weight=w, drop_intermediate=False)
    j = np.flatnonzero(fpr <= target * (1 + 1e-12))[-1]
    if j + 1 < fpr.size and fpr[j + 1] > fpr[j]:
        return tpr[j] + (target - fpr[j]) / (fpr[j + 1] - fpr[j]) * (tpr[j + 1] - tpr[j])
    return tpr[j]


def stratify(y, w):
    """Scale each label's weights back to its count in the protocol."""
    w = w.astype(float).copy()
    for c in (0, 1):
        w[y == c] *= np.count_nonzero(y == c) / w[y == c].sum()
    return w


def engine_figures(plan, atoms, w_pairs, far_points):
    """The engine's figures for explicit per-pair weights ``(n, R)``."""
    w_atoms = np.stack([np.bincount(atoms.atom_of_pair, weights=w_pairs[:, r], minlength=atoms.count.size)
                        for r in range(w_pairs.shape[1])])
    return plan.figures(plan.histogram(atoms, w_atoms, 0), 0, far_points)


@pytest.mark.parametrize("ties", [False, True])
def test_binned_figures_equal_exact_weighted_figures(ties):
    """For any pair weights, the histogram figures equal sklearn and the exact weighted code."""
    y, s, _, _, folds = protocol(1, ties=ties)
    scores = SortedScores(y, s)
    plan = ReplicatePlan.build([scores], folds, resampling_units(y.size))
    assert plan.bins[0].exact
    rng = np.random.default_rng(0)
    w = np.stack([rng.poisson(1.0, y.size) for _ in range(4)] + [rng.gamma(2.0, 0.5, y.size)], axis=1)
    f0 = operating_fars(scores, (0.1, 0.02))
    got = engine_figures(plan, plan.cell_atoms, w, f0)
    fold_plan = FoldPlan(scores, folds)
    for r in range(w.shape[1]):
        wr = w[:, r]
        assert got["auc"][r] == pytest.approx(roc_auc_score(y, s, sample_weight=wr), abs=1e-12)
        exact = curve_metrics(scores, wr, ())
        assert got["eer"][r] == pytest.approx(exact["eer"], abs=1e-12)
        for j, target in enumerate(f0):
            assert got["tar"][j, r] == pytest.approx(tpr_at_reference(y, s, wr, target), abs=1e-12)
        accs, _ = fold_plan.evaluate(stratify(y, wr))
        assert got["accuracy"][r] == pytest.approx(np.nanmean(accs), abs=1e-12)


def test_identity_replicates_equal_explicit_pigeonhole_resampling():
    """Drawing identities with replacement, every copy of a meets every copy of b: the engine's
    replicate equals sklearn on the explicitly resampled pairs (and the k-fold rule on them)."""
    y, s, a, b, folds = protocol(2)
    units = resampling_units(y.size, groups=(a, b))
    assert units.kind == "identity" and units.n_units == 40
    scores = SortedScores(y, s)
    plan = ReplicatePlan.build([scores], folds, units)
    draws = unit_draws(np.random.default_rng(3), units.n_units, 6)
    f0 = operating_fars(scores, (0.1,))
    got = plan.figures(plan.unit_histogram(draws, 0), 0, f0)
    fold_plan = FoldPlan(scores, folds)
    code_a, code_b = units.ends[:, 0], np.where(units.ends[:, 1] == NO_UNIT, units.ends[:, 0], units.ends[:, 1])
    for r in range(draws.shape[1]):
        W = draws[:, r]
        copies = np.array([W[i] if i == j else W[i] * W[j] for i, j in zip(code_a, code_b)])  # slow loop
        idx = np.repeat(np.arange(y.size), copies)
        assert got["auc"][r] == pytest.approx(roc_auc_score(y[idx], s[idx]), abs=1e-12)
        assert got["tar"][0, r] == pytest.approx(tpr_at_reference(y[idx], s[idx], None, f0[0]), abs=1e-12)
        accs, _ = fold_plan.evaluate(stratify(y, copies))
        assert got["accuracy"][r] == pytest.approx(np.nanmean(accs), abs=1e-12)


def test_pair_resampling_is_stratified_and_matches_a_loop_in_distribution():
    y, s, _, _, folds = protocol(4, n_gen=200, n_imp=100)
    scores = SortedScores(y, s)
    plan = ReplicatePlan.build([scores], folds, resampling_units(y.size))
    w = plan.pair_weights(np.random.default_rng(0), 400, only_two=False)
    atoms = plan.cell_atoms
    for c, n_c in ((1, 200), (0, 100)):
        np.testing.assert_array_equal(w[:, atoms.label == c].sum(axis=1), n_c)  # class sizes never move
    engine = plan.figures(plan.histogram(atoms, w, 0), 0, np.array([]))["auc"]
    rng = np.random.default_rng(1)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    loop = []
    for _ in range(400):  # the textbook stratified bootstrap
        idx = np.r_[rng.choice(pos, pos.size), rng.choice(neg, neg.size)]
        loop.append(roc_auc_score(y[idx], s[idx]))
    assert engine.mean() == pytest.approx(np.mean(loop), abs=0.004)
    assert engine.std() == pytest.approx(np.std(loop), rel=0.15)


def test_identity_interval_is_shrunk_pigeonhole_with_the_dyadic_factor():
    """The identity CI is the percentile interval of T + sqrt(f) (T* - T), T* from the explicit
    pigeonhole resample, f = (V - 2 V2) / V with V2 from resampling two-identity pairs alone."""
    y, s, a, b, folds = protocol(5, n_id=60, n_gen=300, n_imp=300)
    n_boot = 400
    res = evaluate_scores(y, s, folds, groups=(a, b), n_bootstrap=n_boot, seed=7, fars=())
    units = resampling_units(y.size, groups=(a, b))
    rng = np.random.default_rng(7)
    code_a = units.ends[:, 0]
    code_b = np.where(units.ends[:, 1] == NO_UNIT, code_a, units.ends[:, 1])
    two = units.ends[:, 1] != NO_UNIT
    main = []
    chunk = 64  # the engine draws 64 replicates at a time for a protocol this small
    for start in range(0, n_boot, chunk):
        draws = unit_draws(rng, units.n_units, min(chunk, n_boot - start))
        for W in draws.T:
            copies = np.where(two, W[code_a] * W[code_b], W[code_a])
            idx = np.repeat(np.arange(y.size), copies)
            main.append(roc_auc_score(y[idx], s[idx]))
    main = np.array(main)
    auc = roc_auc_score(y, s)
    second = []
    loop_rng = np.random.default_rng(11)
    for _ in range(n_boot):  # two-identity pairs resampled within their label, the rest kept
        idx = [np.flatnonzero(~two)]
        for c in (0, 1):
            pool = np.flatnonzero(two & (y == c))
            idx.append(loop_rng.choice(pool, pool.size))
        idx = np.concatenate(idx)
        second.append(roc_auc_score(y[idx], s[idx]))
    v, v2 = main.var(), np.var(second)
    factor = res.ci_shrink["auc"]
    assert factor == pytest.approx((v - 2 * v2) / v, abs=0.08)  # v2 from other draws: Monte Carlo noise
    assert 0.2 < factor < 1.0
    expected = percentile_ci(auc + np.sqrt(factor) * (main - auc), 0.95)
    np.testing.assert_allclose(res.cis["auc"], expected, atol=1e-12)
    assert res.resample == "identity" and res.n_resample_units == 60


def test_quantised_bins_keep_point_estimates_and_move_replicates_little():
    """Beyond max_bins the replicates use quantised bins; the point estimate (weight one) is
    reproduced exactly by the shift, and replicates move by far less than the interval."""
    rng = np.random.default_rng(6)
    y = np.r_[np.ones(4000, np.int8), np.zeros(4000, np.int8)]
    s = rng.normal(2.0 * y, 1.0)
    scores = SortedScores(y, s)
    units = resampling_units(y.size)
    exact_plan = ReplicatePlan.build([scores], np.zeros(y.size, int), units)
    coarse = ReplicatePlan.build([scores], np.zeros(y.size, int), units, max_bins=512)
    assert exact_plan.bins[0].exact and not coarse.bins[0].exact and coarse.bins[0].n_bins <= 512
    f0 = operating_fars(scores, (1e-2,))
    w = np.stack([rng.poisson(1.0, y.size) for _ in range(20)], axis=1).astype(float)
    fine = engine_figures(exact_plan, exact_plan.cell_atoms, w, f0)
    rough = engine_figures(coarse, coarse.cell_atoms, w, f0)
    point_rough = engine_figures(coarse, coarse.cell_atoms, np.ones((y.size, 1)), f0)
    exact = exact_figures(scores, None, (1e-2,))
    shift = exact["auc"] - point_rough["auc"][0]
    assert np.max(np.abs(rough["auc"] + shift - fine["auc"])) < 2e-4  # interval width here ~0.01
    assert np.max(np.abs(rough["tar"] - fine["tar"])) < 0.01


def test_paired_test_uses_the_same_identity_draws_for_both_systems():
    y, s, a, b, _ = protocol(8, n_id=50, n_gen=250, n_imp=250)
    other = s + np.random.default_rng(0).normal(0, 0.8, s.size)
    same = paired_test(y, s, s, groups=(a, b), n_bootstrap=200, seed=0)
    assert same.difference == 0 and same.p_value == 1.0 and same.ci == (0.0, 0.0)
    t = paired_test(y, s, other, groups=(a, b), n_bootstrap=300, seed=1)
    assert t.resample == "identity" and t.n_units == 50
    assert t.difference == pytest.approx(roc_auc_score(y, s) - roc_auc_score(y, other))
    p = paired_test(y, s, other, n_bootstrap=300, seed=1)
    assert p.resample == "pair"
    assert (t.ci[1] - t.ci[0]) > 0
    assert t.p_value_floor == pytest.approx(1 / 301) and 0 < t.p_value <= 1


def test_paired_identity_difference_matches_explicit_resampling_before_shrinkage():
    """Replicate differences come from the same explicit pigeonhole resample for both systems."""
    y, s, a, b, _ = protocol(9)
    other = 0.5 * s + np.random.default_rng(2).normal(0, 1, s.size)
    units = resampling_units(y.size, groups=(a, b))
    systems = [SortedScores(y, s), SortedScores(y, other)]
    plan = ReplicatePlan.build(systems, np.zeros(y.size, int), units)
    draws = unit_draws(np.random.default_rng(0), units.n_units, 5)
    got = [plan.figures(plan.unit_histogram(draws, i), i, np.array([]))["auc"] for i in (0, 1)]
    code_a = units.ends[:, 0]
    code_b = np.where(units.ends[:, 1] == NO_UNIT, code_a, units.ends[:, 1])
    for r, W in enumerate(draws.T):
        copies = np.where(units.ends[:, 1] == NO_UNIT, W[code_a], W[code_a] * W[code_b])
        idx = np.repeat(np.arange(y.size), copies)
        diff = roc_auc_score(y[idx], s[idx]) - roc_auc_score(y[idx], other[idx])
        assert got[0][r] - got[1][r] == pytest.approx(diff, abs=1e-12)


def test_run_replicates_without_identities_has_no_shrinkage():
    y, s, _, _, folds = protocol(10)
    scores = SortedScores(y, s)
    plan = ReplicatePlan.build([scores], folds, resampling_units(y.size, folds=folds, resample="fold"))
    reps = run_replicates(plan, n_bootstrap=50, seed=0, far_points=[np.array([])],
                          exact=[exact_figures(scores, FoldPlan(scores, folds), ())])
    assert reps.shrink["auc"] == 1.0
    assert reps.values[0]["auc"].shape == (50,)


def test_units_parse_identities_and_unknown_sides():
    a = np.array(["x", "x", "y", None, "z"], dtype=object)
    b = np.array(["x", "y", "z", "y", ""], dtype=object)
    units = resampling_units(5, groups=(a, b))
    ends = units.ends
    assert ends[0, 1] == NO_UNIT  # one identity
    assert ends[1, 0] == ends[0, 0] and ends[1, 1] == ends[2, 0]
    assert ends[3, 0] not in ends[[0, 1, 2, 4]] and ends[4, 1] not in ends[:4]  # unknown sides stand alone
    assert units.n_units == 5  # x, y, z and two unknown sides
    np.testing.assert_array_equal(resampling_units(5, groups=np.stack([a, b], axis=1)).ends, ends)


def test_resample_choices_and_errors():
    y, s, a, b, folds = protocol(11)
    assert resampling_units(y.size).kind == "pair"
    assert "no identities given" in resampling_units(y.size).note
    assert resampling_units(y.size, folds=folds, resample="fold").n_units == 5
    with pytest.raises(ConfigError, match="The 'resample' parameter must be one of"):
        evaluate_scores(y, s, resample="people", n_bootstrap=0)
    with pytest.raises(ConfigError, match="needs the identities"):
        bootstrap_cis(y, s, resample="identity", n_bootstrap=5)
    with pytest.raises(ConfigError, match="needs the protocol's folds"):
        bootstrap_cis(y, s, resample="fold", n_bootstrap=5)
    with pytest.raises(InputError, match="one identity per pair"):
        evaluate_scores(y, s, groups=(a[:10], b), n_bootstrap=0)
    with pytest.raises(InputError, match="groups must be a pair"):
        evaluate_scores(y, s, groups=a, n_bootstrap=0)


def test_result_records_the_resampling_unit():
    y, s, a, b, folds = protocol(12)
    d = evaluate_scores(y, s, folds, groups=(a, b), n_bootstrap=30, seed=0).to_dict()
    assert d["resample"] == "identity" and d["n_resample_units"] == 40
    assert "identities resampled" in d["resample_note"]
    assert 0 < d["ci_variance_factor"]["auc"] <= 1
    assert set(d["ci_variance_factor"]["tar_at_far"]) == set(d["tar_at_far"])
    d = evaluate_scores(y, s, folds, n_bootstrap=30, seed=0).to_dict()
    assert d["resample"] == "pair" and d["n_resample_units"] == y.size
    d = evaluate_scores(y, s, folds, resample="fold", n_bootstrap=30, seed=0).to_dict()
    assert d["resample"] == "fold" and d["n_resample_units"] == 5
    lo, hi = d["cis"]["auc"]
    assert lo <= d["auc"] <= hi


def test_tar_interval_is_not_dragged_by_the_number_of_negatives():
    """With 3,000 mismatched pairs, TAR@FAR=1e-3 allows 3 false accepts. Stratified replicates
    read it at the same operating FAR, so the interval brackets the estimate (the unstratified
    bootstrap put half its replicates at 2 false accepts)."""
    rng = np.random.default_rng(13)
    y = np.r_[np.ones(3000, np.int8), np.zeros(3000, np.int8)]
    s = rng.normal(3.2 * y, 1.0)
    res = evaluate_scores(y, s, n_bootstrap=400, seed=0, fars=(1e-3,))
    lo, hi = res.cis["tar_at_far"][1e-3]
    point = res.tar_at_far[1e-3]
    assert lo < point < hi
    assert (point - lo) < 2.0 * (hi - point)  # not dragged down
