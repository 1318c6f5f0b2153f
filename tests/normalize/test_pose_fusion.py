"""pose-fusion: the fused score is the learned formula in the members' scores and the yaw gap; the
gap terms help where the members' reliability changes with pose; no yaw means gap 0."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.errors import ConfigError
from facemetric.metrics import make_metric
from facemetric.metrics.pose_plda import pose_curve

from facemetric.datasets.pose_simulation import cross_pose_pairs, posed_people
from facemetric.experiments.driver import score_index_pairs


@pytest.fixture(scope="module")
def data():
    train = posed_people(150, 6, seed=1, prefix="tr", min_yaw=15, max_yaw=60, frontal_fraction=0.6)
    test = posed_people(50, 8, seed=2, prefix="te")
    return train, test, make_metric("pose-fusion", n_pairs=4000).fit_descriptors(train)


def test_fused_score_is_the_formula(data):
    train, test, fused = data
    ia, ib, _ = cross_pose_pairs(test, 200, seed=3)
    got = score_posed(fused, test.unlabelled(), ia, ib)
    members = [make_metric("plda").fit(train.X, train.labels), make_metric("cosine").fit(train.X)]
    z = np.stack([m.score_pairs(test.X, ia, ib) for m in members], axis=1)
    z = (z - fused.score_mean_) / fused.score_scale_
    gap = np.abs(pose_curve(test.yaw[ia]) - pose_curve(test.yaw[ib]))
    expected = z @ fused.weights_ + (z * gap[:, None]) @ fused.gap_weights_ + fused.gap_offset_ * gap + fused.intercept_
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fused.score_pairs(test.X, ia, ib),
                               z @ fused.weights_ + fused.intercept_, rtol=1e-5, atol=1e-5)  # no yaw: gap 0


def test_gap_terms_help_cross_pose(data):
    train, test, fused = data
    ia, ib, same = cross_pose_pairs(test, 400, seed=4)
    plain = make_metric("fusion", metrics=["plda", "cosine"], n_pairs=4000).fit(train.X, train.labels)
    assert roc_auc_score(same, score_posed(fused, test, ia, ib)) >= roc_auc_score(
        same, plain.score_pairs(test.X, ia, ib))
    assert np.any(fused.gap_weights_ != 0)


def test_members_must_be_pose_blind():
    with pytest.raises(ConfigError, match="must be a pose-blind metric"):
        make_metric("pose-fusion", metrics=["pose-plda"]).fit(np.eye(6), list("aabbcc"))


def score_posed(metric, ds, ia, ib):
    """Scores as the experiment driver computes them: descriptors and yaw only, never labels."""
    return score_index_pairs(metric, ds.X, ia, ib, yaw=ds.yaw)
