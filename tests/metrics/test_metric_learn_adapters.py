"""The metric-learn adapters (optional extra ``metric-learn``)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.errors import MissingDependencyError
from facemetric.metrics import make_metric

from ._synthetic import all_pairs, make_identities

ADAPTERS = ["ml-itml", "ml-lmnn", "ml-nca", "ml-mlkr", "ml-lfda"]


@pytest.mark.parametrize("name", ADAPTERS)
def test_adapter_learns_a_projection_that_separates_identities(name):
    pytest.importorskip("metric_learn")
    X, y = make_identities(n_ids=30, per_id=4, dim=12, seed=4)
    Xt, yt = make_identities(n_ids=20, per_id=4, dim=12, seed=5)
    ia, ib, same = all_pairs(yt)
    metric = make_metric(name, n_pca=8, max_samples=120, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric.fit(X, y)
    assert metric.components_.shape[1] == 12  # PCA folded into the projection
    assert metric.transform(Xt).shape[0] == len(yt)
    # MLKR regresses random per-identity targets, a weak surrogate for identities
    assert roc_auc_score(same, metric.score_pairs(Xt, ia, ib)) > (0.65 if name == "ml-mlkr" else 0.8)


def test_subsampling_keeps_whole_identities_and_is_seeded():
    pytest.importorskip("metric_learn")
    X, y = make_identities(n_ids=40, per_id=5, dim=10)
    a = make_metric("ml-lfda", max_samples=50, seed=1).fit(X, y).components_
    b = make_metric("ml-lfda", max_samples=50, seed=1).fit(X, y).components_
    np.testing.assert_array_equal(a, b)


def test_missing_metric_learn_names_the_extra(monkeypatch):
    X, y = make_identities()
    monkeypatch.setitem(sys.modules, "metric_learn", None)
    with pytest.raises(MissingDependencyError, match=r"facemetric\[metric-learn\]"):
        make_metric("ml-nca").fit(X, y)
