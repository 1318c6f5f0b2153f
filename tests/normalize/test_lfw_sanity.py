"""A small real-data check: one LFW View 2 fold, fitted on the identities of the other folds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.metrics import make_metric

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def fold9(lfw_descriptors, lfw_dir):
    from facemetric.io import load_protocol

    ds = lfw_descriptors.fused("sum")
    protocol = load_protocol(lfw_dir / "pairs.txt")
    ia, ib = protocol.resolve(ds)
    sel = protocol.folds == 9
    ia, ib = ia[sel], ib[sel]
    test_ids = np.unique(ds.labels[np.concatenate([ia, ib])])
    train = ~np.isin(ds.labels, test_ids)
    return ds.X[train], ds.labels[train], ds.X, ia, ib, protocol.labels[sel]


def auc_of(spec, fold9):
    X, y, T, ia, ib, same = fold9
    params = dict(spec)
    metric = make_metric(params.pop("method"), **params).fit(X, y)
    scores = metric.score_pairs(T, ia, ib)
    return roc_auc_score(same, scores), metric, scores


def test_normalisations_do_not_lose_to_cosine_on_lfw(fold9):
    cosine, _, _ = auc_of({"method": "cosine"}, fold9)
    assert cosine > 0.999  # the reference descriptors are strong on this fold
    for spec in ({"method": "as-norm", "cohort_size": 1000, "top_k": 100},
                 {"method": "k-reciprocal"}):
        auc, metric, scores = auc_of(spec, fold9)
        assert auc >= cosine - 1e-4, (spec, auc, cosine)
        assert np.isfinite(scores).all()


def test_calibrated_cosine_thresholds_on_lfw(fold9):
    _, cal, llr = auc_of({"method": "calibrated", "n_pairs": 6000}, fold9)
    same = fold9[-1]
    entries = cal.thresholds(fars=(1e-2, 1e-3))
    # a threshold chosen on training identities keeps roughly its FAR on the unseen test fold
    for e in entries:
        assert np.mean(llr[same == 0] >= e["threshold"]) <= 10 * e["far"] + 1 / 300
        assert np.mean(llr[same == 1] >= e["threshold"]) > 0.9
