"""pose-plda: exact fallback to PLDA without pose, brute-force LLR with per-photo Gaussians, recovery of a
planted pose model, persistence, and a gain where the generator has a pose subspace."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from facemetric.errors import InputError
from facemetric.metrics import PLDA, make_metric
from facemetric.metrics.pose_plda import PosePLDA, fit_pose_model, pose_curve

from facemetric.datasets.pose_simulation import cross_pose_pairs, posed_people
from facemetric.experiments.driver import score_index_pairs


@pytest.fixture(scope="module")
def data():
    train = posed_people(120, 6, seed=1, prefix="tr", min_yaw=15, max_yaw=35, frontal_fraction=0.8)
    test = posed_people(40, 8, seed=2, prefix="te")
    return train, test


@pytest.fixture(scope="module")
def fitted(data):
    train, _ = data
    return make_metric("pose-plda", max_yaw=90).fit_descriptors(train), PLDA().fit(train.X, train.labels)


def test_without_pose_it_is_the_plda(data, fitted):
    train, test = data
    pose, plda = fitted
    ia, ib = np.arange(0, 60), np.arange(60, 120)
    np.testing.assert_array_equal(pose.score_pairs(test.X, ia, ib), plda.score_pairs(test.X, ia, ib))
    unknown = np.full(len(test), np.nan)
    np.testing.assert_allclose(pose.score_pairs(test.X, ia, ib, yaw=unknown), plda.score_pairs(test.X, ia, ib),
                               rtol=1e-5, atol=1e-4)
    blind = make_metric("pose-plda").fit(train.X, train.labels)  # trained without yaw: no pose model
    np.testing.assert_allclose(blind.score_pairs(test.X, ia, ib, yaw=test.yaw), plda.score_pairs(test.X, ia, ib),
                               rtol=1e-5, atol=1e-4)


def test_scores_are_the_brute_force_llr_of_the_per_photo_gaussians(data, fitted):
    _, test = data
    pose, _ = fitted
    ia, ib = np.array([0, 5, 9, 17]), np.array([3, 40, 100, 200])
    got = pose.score_pairs(test.X, ia, ib, yaw=test.yaw)
    U, lam = pose.latent_space(test.X)
    B = np.diag(lam)
    levels = pose.levels(test.yaw, len(test))
    for k, (a, b) in enumerate(zip(ia, ib)):
        da, Sa = pose.photo_model(levels[a])
        db, Sb = pose.photo_model(levels[b])
        z = np.concatenate([U[a] - da, U[b] - db])
        same = np.block([[B + Sa, B], [B, B + Sb]])
        llr = multivariate_normal(cov=same).logpdf(z) - multivariate_normal(cov=B + Sa).logpdf(z[:lam.size]) \
            - multivariate_normal(cov=B + Sb).logpdf(z[lam.size:])
        assert got[k] == pytest.approx(llr, rel=1e-6, abs=1e-6)


def test_fit_pose_model_recovers_a_planted_model():
    rng = np.random.default_rng(0)
    d, n_id, per = 4, 20000, 4
    v = np.array([1.0, -0.5, 0.0, 0.2])
    P = np.diag([2.0, 0.0, 0.5, 0.0])
    labels = np.repeat(np.arange(n_id), per)
    yaw = rng.uniform(-70, 70, labels.size)
    g = pose_curve(yaw)
    y = 2.0 * rng.normal(size=(n_id, d))[labels]
    e = rng.normal(size=(labels.size, d)) * np.sqrt(1.0 + g[:, None] * np.diag(P))
    U = y + g[:, None] * v + e
    got_v, got_P, g_avg = fit_pose_model(U, labels, yaw, None)
    np.testing.assert_allclose(got_v, v, atol=0.08)
    np.testing.assert_allclose(got_P, P, atol=0.12)
    assert g_avg == pytest.approx(g.mean())


def test_no_pose_variation_gives_no_pose_model():
    U = np.random.default_rng(1).normal(size=(40, 3))
    assert fit_pose_model(U, np.repeat(np.arange(10), 4), np.zeros(40), 5) is None
    assert fit_pose_model(U, np.arange(40), np.linspace(0, 60, 40), 5) is None  # no identity with 2 photos


def test_pose_model_helps_where_the_pose_has_structure(data, fitted):
    _, test = data
    pose, plda = fitted
    ia, ib, same = cross_pose_pairs(test, 400, seed=3)
    auc_plda = roc_auc_score(same, plda.score_pairs(test.X, ia, ib))
    auc_pose = roc_auc_score(same, score_posed(pose, test.unlabelled(), ia, ib))
    assert auc_pose > auc_plda + 0.01


def test_save_load_keeps_the_pose_model(tmp_path, data, fitted):
    _, test = data
    pose, _ = fitted
    ia, ib = np.arange(50), np.arange(50, 100)
    back = PosePLDA.load(pose.save(tmp_path / "m"))
    np.testing.assert_allclose(back.score_pairs(test.X, ia, ib, yaw=test.yaw), pose.score_pairs(test.X, ia, ib, yaw=test.yaw))


def test_bad_yaw_and_parameters(data):
    train, _ = data
    with pytest.raises(InputError, match="yaw of shape"):
        make_metric("pose-plda").fit(train.X, train.labels, yaw=np.zeros(3))
    with pytest.raises(Exception, match="'max_yaw' parameter of PosePLDA must be None or a float in"):
        make_metric("pose-plda", max_yaw=120).fit(train.X, train.labels)


@parametrize_with_checks([PosePLDA()])
def test_sklearn_contract(estimator, check):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def score_posed(metric, ds, ia, ib):
    """Scores as the experiment driver computes them: descriptors and yaw only, never labels."""
    return score_index_pairs(metric, ds.X, ia, ib, yaw=ds.yaw)
