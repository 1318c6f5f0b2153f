"""pose-norm: AS-norm when pose is unknown; with pose, each side is standardised against the cohort bin
of the other side's yaw (checked by brute force)."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.metrics import make_metric

from facemetric.datasets.pose_simulation import posed_people
from facemetric.experiments.driver import score_index_pairs


@pytest.fixture(scope="module")
def fitted():
    train = posed_people(100, 6, seed=1, prefix="tr", min_yaw=15, max_yaw=60, frontal_fraction=0.6)
    test = posed_people(20, 6, seed=2, prefix="te")
    norm = make_metric("pose-norm", metric="cosine", cohort_size=300, top_k=20, n_bins=3).fit_descriptors(train)
    return train, test, norm


def test_without_pose_it_is_as_norm(fitted):
    train, test, norm = fitted
    asnorm = make_metric("as-norm", metric="cosine", cohort_size=300, top_k=20).fit(train.X, train.labels)
    ia, ib = np.arange(40), np.arange(40, 80)
    np.testing.assert_allclose(norm.score_pairs(test.X, ia, ib), asnorm.score_pairs(test.X, ia, ib), rtol=1e-10)
    np.testing.assert_allclose(norm.score_pairs(test.X, ia, ib, yaw=np.full(len(test), np.nan)),
                               asnorm.score_pairs(test.X, ia, ib), rtol=1e-10)


def test_pose_matched_statistics_by_brute_force(fitted):
    train, test, norm = fitted
    assert norm.bin_edges_.size == 2  # three bins of the cohort's |yaw|
    Z = test.X / np.linalg.norm(test.X, axis=1, keepdims=True)
    C = norm.cohort_
    cohort_yaw_bin = norm.cohort_bins_
    ia, ib = np.array([0, 3, 7, 50]), np.array([10, 61, 33, 2])
    got = score_posed(norm, test.unlabelled(), ia, ib)
    for k, (a, b) in enumerate(zip(ia, ib)):
        raw = float(Z[a] @ Z[b])

        def z(x, other):
            b_other = int(np.searchsorted(norm.bin_edges_, abs(test.yaw[other]), side="right"))
            s = np.sort(C[cohort_yaw_bin == b_other] @ Z[x])[::-1][:20]
            return (raw - s.mean()) / s.std()

        assert got[k] == pytest.approx(0.5 * (z(a, b) + z(b, a)), rel=1e-5)  # float32 descriptors


def score_posed(metric, ds, ia, ib):
    """Scores as the experiment driver computes them: descriptors and yaw only, never labels."""
    return score_index_pairs(metric, ds.X, ia, ib, yaw=ds.yaw)
