"""Fusion weights, logistic calibration and operating thresholds on synthetic data with known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.errors import ConfigError, InputError
from facemetric.metrics import METHODS
from facemetric.metrics.base import PairMetric
from facemetric.metrics.persist import load_model, save_model
from facemetric.metrics.sampling import sample_pairs, split_identities
from facemetric.normalize import Calibrated, LogisticCalibrator, WeightedFusion
from facemetric.verify.thresholds import operating_thresholds, save_thresholds


def clustered(n_ids: int = 60, per_id: int = 4, dim: int = 8, noise: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_ids), per_id)
    X = rng.normal(size=(n_ids, dim))[y] + noise * rng.normal(size=(y.size, dim))
    return X.astype(np.float32), np.array([f"s{seed}p{i}" for i in y])


class Noise(PairMetric):
    """A score unrelated to identity: a pseudo-random value per descriptor, multiplied."""

    needs_labels = False

    def prepare(self, X):
        return np.sin(1000.0 * X.sum(axis=1, keepdims=True))

    def score_prepared(self, Za, Zb):
        return (Za * Zb).ravel()


def test_split_and_pairs_are_identity_disjoint_and_seeded():
    _, y = clustered()
    keep, held = split_identities(y, 0.3, seed=1)
    assert not set(y[keep]) & set(y[held])
    np.testing.assert_array_equal(held, split_identities(y, 0.3, seed=1)[1])
    ia, ib, same = sample_pairs(y, 1000, seed=2)
    assert same.sum() == 500
    assert (y[ia] == y[ib])[same == 1].all() and (y[ia] != y[ib])[same == 0].all()
    assert (ia != ib).all()


def test_fusion_weights_favour_the_useful_member():
    X, y = clustered()
    fusion = WeightedFusion(metrics=["cosine", Noise()], n_pairs=4000, seed=0).fit(X, y)
    w_cos, w_noise = fusion.weights_
    assert w_cos > 1.0 and abs(w_noise) < 0.25 * w_cos
    assert METHODS["fusion"] is WeightedFusion


def test_fused_score_is_the_weighted_z_score_sum():
    X, y = clustered()
    fusion = WeightedFusion(metrics=["cosine", "l2"], n_pairs=2000).fit(X, y)
    T, _ = clustered(seed=5)
    a, b = T[:30], T[30:60]
    cos = np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    l2 = -np.linalg.norm(a - b, axis=1)
    z = (np.stack([cos, l2], 1) - fusion.score_mean_) / fusion.score_scale_
    np.testing.assert_allclose(fusion.pair_score(a, b), z @ fusion.weights_ + fusion.intercept_, rtol=1e-5)
    assert fusion.member_names() == ["cosine", "l2"]


def test_fusion_of_two_metrics_is_not_worse_than_the_best_member(tmp_path):
    X, y = clustered(noise=1.3)
    T, yt = clustered(seed=7, noise=1.3)
    ia, ib, same = sample_pairs(yt, 3000, seed=0)
    specs = ["cosine", {"method": "lda"}]
    fusion = WeightedFusion(metrics=specs, n_pairs=4000).fit(X, y)
    fused = roc_auc_score(same, fusion.score_pairs(T, ia, ib))
    members = [roc_auc_score(same, WeightedFusion(metrics=[s]).fit(X, y).score_pairs(T, ia, ib)) for s in specs]
    assert fused >= max(members) - 0.005
    save_model(fusion, tmp_path / "f")
    np.testing.assert_allclose(load_model(tmp_path / "f").score_pairs(T, ia, ib), fusion.score_pairs(T, ia, ib))


def test_fusion_bad_inputs():
    X, y = clustered()
    with pytest.raises(ConfigError, match="non-empty list"):
        WeightedFusion(metrics=[]).fit(X, y)
    with pytest.raises(ConfigError, match="transductive"):
        WeightedFusion(metrics=["cosine", "test-center"]).fit(X, y)
    with pytest.raises(ConfigError, match="holdout"):
        WeightedFusion(holdout=1.5).fit(X, y)
    with pytest.raises(InputError, match="WeightedFusion"):
        WeightedFusion().fit(X)


def gaussian_scores(n_pos: int, n_neg: int, seed: int):
    """Genuine ~ N(1, 1), impostor ~ N(-1, 1): the true LLR is exactly 2 s."""
    rng = np.random.default_rng(seed)
    s = np.concatenate([rng.normal(1, 1, n_pos), rng.normal(-1, 1, n_neg)])
    return s, np.concatenate([np.ones(n_pos, int), np.zeros(n_neg, int)])


def test_calibrator_recovers_the_true_llr_whatever_the_training_prior():
    for n_pos, n_neg in ((20000, 20000), (6000, 34000)):
        s, t = gaussian_scores(n_pos, n_neg, seed=n_pos)
        cal = LogisticCalibrator().fit(s, t)
        assert cal.slope_ == pytest.approx(2.0, abs=0.08)
        grid = np.linspace(-3, 3, 7)
        np.testing.assert_allclose(cal.llr(grid), 2 * grid, atol=0.12)
        assert np.all(np.diff(cal.llr(np.sort(s))) >= 0)


def test_calibrated_probabilities_are_reliable():
    s, t = gaussian_scores(20000, 20000, seed=1)
    cal = LogisticCalibrator().fit(s, t)
    s2, t2 = gaussian_scores(20000, 20000, seed=2)
    p = cal.probability(s2, prior=0.5)
    bins = np.digitize(p, np.linspace(0.1, 0.9, 9))
    for b in np.unique(bins):
        sel = bins == b
        if sel.sum() > 500:
            assert abs(p[sel].mean() - t2[sel].mean()) < 0.03
    # a rarer prior lowers every posterior in line with Bayes' rule
    p_rare = cal.probability(np.array([0.0]), prior=0.1)[0]
    assert p_rare == pytest.approx(0.1 / (0.1 + 0.9 * np.exp(-cal.llr(np.array([0.0]))[0])), rel=1e-9)


def test_calibrator_bad_inputs():
    with pytest.raises(InputError, match="both"):
        LogisticCalibrator().fit([0.1, 0.2], [1, 1])
    with pytest.raises(InputError, match="do not rank"):
        LogisticCalibrator().fit(*(lambda s, t: (-s, t))(*gaussian_scores(100, 100, 0)))
    with pytest.raises(InputError, match="NaN"):
        LogisticCalibrator().fit([0.1, np.nan], [1, 0])
    with pytest.raises(ConfigError, match="prior"):
        LogisticCalibrator().fit(*gaussian_scores(100, 100, 0)).probability([0.0], prior=1.0)


def brute_force_threshold(scores, same, far):
    """Try every candidate threshold; keep the lowest with FAR <= far."""
    neg = scores[same == 0]
    for thr in np.sort(np.unique(np.concatenate([scores, np.nextafter(scores, np.inf)]))):
        if np.mean(neg >= thr) <= far:
            return thr
    return np.inf


def test_thresholds_match_brute_force_and_export(tmp_path):
    s, t = gaussian_scores(300, 1500, seed=3)
    entries = operating_thresholds(s, t, fars=(0.1, 0.01, 0.001, 1e-4))
    for e in entries:
        thr = brute_force_threshold(s, t, e["far"])
        assert e["threshold"] == thr
        assert e["far_measured"] <= e["far"]
        assert e["tar"] == np.mean(s[t == 1] >= thr)
    assert [e["below_resolution"] for e in entries] == [False, False, False, True]
    path = save_thresholds(tmp_path / "thr.json", entries, method="cosine")
    doc = json.loads(path.read_text())
    assert doc["accept_if"] == "score >= threshold" and doc["method"] == "cosine"
    assert [e["far"] for e in doc["thresholds"]] == [0.1, 0.01, 0.001, 1e-4]
    with pytest.raises(ConfigError, match="FAR"):
        operating_thresholds(s, t, fars=(0.0,))


def test_calibrated_metric_keeps_the_ranking_and_exports_thresholds(tmp_path):
    X, y = clustered(n_ids=80)
    cal = Calibrated(n_pairs=4000).fit(X, y)
    T, yt = clustered(seed=9)
    ia, ib, same = sample_pairs(yt, 2000, seed=0)
    llr = cal.score_pairs(T, ia, ib)
    keep, _ = split_identities(y, 0.3, 0)
    cosine = METHODS["cosine"]().fit(X[keep], y[keep]).score_pairs(T, ia, ib)
    assert roc_auc_score(same, llr) == pytest.approx(roc_auc_score(same, cosine))
    assert np.corrcoef(llr, cosine)[0, 1] == pytest.approx(1.0)
    # calibrated on held-out training identities, it stays calibrated on unseen people
    p = cal.predict_proba(T[ia], T[ib])
    assert abs(p.mean() - same.mean()) < 0.05
    entries = cal.thresholds(fars=(0.1, 0.01))
    assert entries[0]["threshold"] < entries[1]["threshold"]
    for e in entries:
        assert cal.calibrator().llr(e["threshold_raw"]) == pytest.approx(e["threshold"])
    save_model(cal, tmp_path / "c")
    np.testing.assert_allclose(load_model(tmp_path / "c").score_pairs(T, ia, ib), llr)
    with pytest.raises(ConfigError, match="inductive"):
        Calibrated(metric="k-reciprocal").fit(X, y)
