"""``score_matrix`` (every row against every row) agrees with ``score_prepared`` on broadcast pairs.

It is the blocked pairwise path of 1:N search and all-vs-all verification, and the cohort
statistics of the score normalisers, so every registered method is checked against the pair
scores it defines, with brute-force loops over the pairs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from facemetric.metrics import CLOSED_FORM, make_metric
from facemetric.metrics.base import rowwise_dot

from ._synthetic import make_identities

FAST = {"max_iter": 5}
CASES = [
    ("cosine", {}), ("l2", {}), *[(name, {}) for name in CLOSED_FORM],
    ("ml-itml", FAST), ("ml-lfda", {}), ("ml-nca", {**FAST, "similarity": "euclidean"}),
    ("z-norm", {"metric": "plda", "cohort_size": 40}), ("as-norm", {"metric": "kissme", "cohort_size": 40,
                                                                  "top_k": 10}),
    ("calibrated", {"metric": "wccn", "n_pairs": 500}),
    ("fusion", {"metrics": ["cosine", "plda"], "n_pairs": 500}),
]


def _fitted(name, params):
    X, y = make_identities(n_ids=30, per_id=5, dim=12, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = make_metric(name, **params).fit(X, y)
    return metric, X


@pytest.mark.parametrize(("name", "params"), CASES, ids=[c[0] for c in CASES])
def test_score_matrix_is_the_pair_score_of_every_pair(name, params):
    metric, X = _fitted(name, params)
    P = np.asarray(metric.prepare(X))
    A, B = P[:7], P[7:20]
    expected = np.array([[metric.score_prepared(A[i:i + 1], B[j:j + 1])[0] for j in range(len(B))]
                         for i in range(len(A))])
    got = metric.score_matrix(A, B)
    assert got.shape == (7, 13)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4 * max(1.0, np.abs(expected).max()))


@pytest.mark.parametrize(("name", "params"), CASES, ids=[c[0] for c in CASES])
def test_dot_product_flag_is_true_only_for_dot_scores(name, params):
    metric, X = _fitted(name, params)
    P = np.asarray(metric.prepare(X))
    A, B = P[:20], P[20:40]
    is_dot = np.allclose(metric.score_prepared(A, B), rowwise_dot(A, B), rtol=1e-5, atol=1e-6)
    assert metric.dot_product_scores == is_dot
