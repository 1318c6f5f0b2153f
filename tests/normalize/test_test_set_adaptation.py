"""pseudo-id, plda-adapt and coral against brute-force and closed-form references; every transductive
method reads only the test descriptors and their pose, never labels or the pair list."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.metrics import roc_auc_score

from facemetric.errors import ConfigError
from facemetric.metrics import METHODS, make_metric
from facemetric.normalize.coral import coral_map
from facemetric.normalize.plda_adapt import adapt_covariances
from facemetric.normalize.pseudo_identity import attach_to_clusters, average_linkage_clusters
from facemetric.types import DescriptorSet, PairProtocol

from facemetric.datasets.pose_simulation import cross_pose_pairs, posed_people
from facemetric.experiments.driver import score_index_pairs, score_protocol

TRANSDUCTIVE = sorted(name for name, cls in METHODS.items() if getattr(cls, "transductive", False))


@pytest.fixture(scope="module")
def data():
    train = posed_people(150, 6, seed=1, prefix="tr", min_yaw=15, max_yaw=35, frontal_fraction=0.85)
    test = posed_people(50, 10, seed=2, prefix="te")
    ia, ib, same = cross_pose_pairs(test, 500, seed=3)
    return train, test, ia, ib, same


# --- clustering and attachment against brute force -------------------------------------------------

def naive_average_linkage(S: np.ndarray, threshold: float) -> np.ndarray:
    clusters = [[i] for i in range(S.shape[0])]
    while len(clusters) > 1:
        best, pair = -np.inf, None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                mean = S[np.ix_(clusters[a], clusters[b])].mean()
                if mean > best:
                    best, pair = mean, (a, b)
        if best < threshold:
            break
        a, b = pair
        clusters[a] += clusters.pop(b)
    labels = np.empty(S.shape[0], dtype=int)
    for k, members in enumerate(clusters):
        labels[members] = k
    return labels


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a[:, None] == a[None, :], b[:, None] == b[None, :]))


@pytest.mark.parametrize("seed", range(3))
def test_average_linkage_matches_the_naive_algorithm(seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, 3))
    X = centres[rng.integers(0, 4, 18)] + 0.4 * rng.normal(size=(18, 3))
    S = X @ X.T
    for threshold in (-1.0, 0.5, 2.0):
        assert same_partition(average_linkage_clusters(S, threshold), naive_average_linkage(S, threshold))


def test_attachment_matches_brute_force():
    rng = np.random.default_rng(0)
    clusters = rng.integers(0, 4, 12)
    S = rng.normal(size=(40, 12))
    got = attach_to_clusters(S, clusters, threshold=0.0, margin=0.3)
    for i in range(40):
        means = sorted(((S[i, clusters == k].mean(), k) for k in np.unique(clusters)), reverse=True)
        spread = np.std([m for m, _ in means])  # the margin is in units of the row's own spread
        ok = means[0][0] >= 0.0 and means[0][0] - means[1][0] >= 0.3 * spread
        assert got[i] == (means[0][1] if ok else -1)


# --- Kaldi-style adaptation and CORAL: closed forms ---------------------------------------------------

def test_adaptation_raises_variance_only_where_the_test_set_has_more():
    rng = np.random.default_rng(0)
    lam = np.array([4.0, 2.0, 1.0, 0.5])
    scales = np.array([3.0, 0.5, 1.0, 2.0])  # test variance / model total variance per axis
    U = rng.normal(size=(200000, 4)) * np.sqrt((1 + lam) * scales)
    mean, W, B = adapt_covariances(U, lam, within_scale=0.3, between_scale=0.7, mean_diff_scale=1.0)
    excess = np.maximum(scales - 1, 0) * (1 + lam)
    np.testing.assert_allclose(np.diag(W + B), 1 + lam + excess, rtol=0.02)  # total = max(test, model)
    np.testing.assert_allclose(np.diag(W), 1 + 0.3 * excess, rtol=0.03, atol=0.02)
    np.testing.assert_allclose(W - np.diag(np.diag(W)), 0, atol=0.05)
    np.testing.assert_allclose(mean, 0, atol=0.02)


def test_adaptation_is_the_plda_when_the_test_set_matches_the_model(data):
    train, test, ia, ib, _ = data
    plda = make_metric("plda").fit(train.X, train.labels)
    adapted = make_metric("plda-adapt", within_scale=0.0, between_scale=0.0, mean_diff_scale=0.0).fit(
        train.X, train.labels)
    U, lam = plda.latent_space(test.X)
    mean, W, B = adapt_covariances(U, lam, within_scale=0.0, between_scale=0.0, mean_diff_scale=0.0)
    np.testing.assert_allclose(W, np.eye(lam.size), atol=1e-8)
    np.testing.assert_allclose(B, np.diag(lam), rtol=1e-8, atol=1e-8)
    # only the mean moves, to the mean of the test set (the photos the pairs name): the score is the
    # PLDA log-likelihood ratio of the shifted rows, computed here by brute force
    mean = U[np.unique(np.concatenate([ia, ib]))].mean(axis=0)
    got = score_posed(adapted, test, ia, ib)
    Bd, eye = np.diag(lam), np.eye(lam.size)
    same, one = multivariate_normal(cov=np.block([[Bd + eye, Bd], [Bd, Bd + eye]])), multivariate_normal(cov=Bd + eye)
    for k in range(4):
        za, zb = U[ia[k]] - mean, U[ib[k]] - mean
        llr = same.logpdf(np.concatenate([za, zb])) - one.logpdf(za) - one.logpdf(zb)
        assert got[k] == pytest.approx(llr, rel=1e-5, abs=1e-5)


def test_coral_gives_the_test_set_the_training_mean_and_covariance():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(500, 5)) @ rng.normal(size=(5, 5)) + 3.0
    C = np.cov(rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5)), rowvar=False, bias=True)
    m = rng.normal(size=5)
    out = coral_map(Z, m, C, shrinkage=0.0).astype(np.float64)
    np.testing.assert_allclose(out.mean(axis=0), m, atol=1e-5)
    np.testing.assert_allclose(np.cov(out, rowvar=False, bias=True), C, rtol=1e-4, atol=1e-5)


# --- pseudo-identities --------------------------------------------------------------------------------

def test_pseudo_identities_are_mostly_pure_and_help_cross_pose(data):
    train, test, ia, ib, same = data
    pid = make_metric("pseudo-id").fit_descriptors(train)
    groups = pid.pseudo_identities(pid.base_, test.X, test.yaw)
    used = groups >= 0
    assert used.sum() > 0.5 * len(test)
    majority = sum(np.unique(test.labels[groups == k], return_counts=True)[1].max() for k in range(groups.max() + 1))
    assert majority / used.sum() > 0.9  # the margin trades a little purity for many more turned photos
    plda = make_metric("plda").fit(train.X, train.labels)
    auc_plda = roc_auc_score(same, plda.score_pairs(test.X, ia, ib))
    auc_pid = roc_auc_score(same, score_posed(pid, test.unlabelled(), ia, ib))
    assert auc_pid > auc_plda + 0.01


def test_pseudo_identity_without_pose_clusters_every_photo(data):
    train, test, ia, ib, _ = data
    pid = make_metric("pseudo-id").fit_descriptors(train)
    no_pose = pid.score_pairs(test.X, ia, ib)
    all_anchors = score_posed(make_metric("pseudo-id", frontal_yaw=None).fit_descriptors(train), test, ia, ib)
    np.testing.assert_allclose(no_pose, all_anchors)


def test_pseudo_identity_needs_a_labelled_metric():
    with pytest.raises(ConfigError, match="must be an inductive metric that learns from identities"):
        make_metric("pseudo-id", metric="cosine").fit(np.eye(4), ["a", "a", "b", "b"])


# --- transductive methods see descriptors and pose only -----------------------------------------------

class LabelBlind:
    """A test set whose labels cannot be read."""

    def __init__(self, ds: DescriptorSet):
        self._ds = ds
        self.X, self.ids, self.yaw, self.landmarks, self.provenance = ds.X, ds.ids, ds.yaw, ds.landmarks, ds.provenance

    @property
    def labels(self):
        raise AssertionError("a transductive method read the test labels")

    def __len__(self) -> int:
        return len(self._ds)

    def index_of(self, ids, source=None):
        return self._ds.index_of(ids, source=source)


@pytest.mark.parametrize("name", TRANSDUCTIVE)
def test_transductive_methods_never_read_test_labels_or_the_pair_list(name, data):
    train, test, ia, ib, same = data
    assert len(TRANSDUCTIVE) >= 5
    metric = make_metric(name).fit_descriptors(train)
    ref = score_posed(metric, test, ia, ib)
    # through the driver's own path (score_protocol: resolve the ids, check, score), with the test
    # labels scrambled or unreadable and the pairs' same/different labels scrambled
    rng = np.random.default_rng(0)
    protocol = PairProtocol.from_id_pairs(test.ids[ia], test.ids[ib], labels=rng.permutation(same), name="t")
    scrambled = test.with_labels(rng.permutation(test.labels))
    np.testing.assert_array_equal(score_protocol(metric, scrambled, protocol), ref)
    np.testing.assert_array_equal(score_protocol(metric, LabelBlind(test), protocol), ref)
    # the pair list only says which pairs to score: asking for the pairs in another order, or for
    # extra pairs among the same photos, leaves every score unchanged
    order = np.random.default_rng(1).permutation(ia.size)
    np.testing.assert_allclose(score_posed(metric, test, ia[order], ib[order]), ref[order], rtol=1e-9, atol=1e-9)
    extra_a, extra_b = np.concatenate([ia, ib[:50]]), np.concatenate([ib, ia[:50]])
    np.testing.assert_allclose(score_posed(metric, test, extra_a, extra_b)[: ia.size], ref, rtol=1e-9, atol=1e-9)


def score_posed(metric, ds, ia, ib):
    """Scores as the experiment driver computes them: descriptors and yaw only, never labels."""
    return score_index_pairs(metric, ds.X, ia, ib, yaw=ds.yaw)
