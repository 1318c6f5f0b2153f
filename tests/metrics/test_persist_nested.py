"""Nested metrics persist recursively: each inner metric with its own class, parameters and arrays."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facemetric.errors import InputError
from facemetric.metrics import make_metric
from facemetric.metrics.persist import load_model, save_model

from ._synthetic import make_identities


def test_a_normaliser_over_a_fusion_round_trips(tmp_path):
    X, y = make_identities()
    spec = {"method": "fusion", "metrics": ["plda", {"method": "wccn", "shrinkage": 0.2}], "n_pairs": 400}
    model = make_metric("as-norm", metric=spec, cohort_size=40, top_k=10).fit(X, y)
    save_model(model, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    fusion = meta["metrics"]["base_"]
    assert meta["format_version"] == 2 and fusion["method"] == "fusion"
    assert [m["method"] for m in fusion["metrics"]["members_"]] == ["plda", "wccn"]
    assert fusion["metrics"]["members_"][1]["params"]["shrinkage"] == 0.2
    with np.load(tmp_path / "m" / "arrays.npz") as arrays:
        assert "base_/members_/0/components_" in arrays.files and "cohort_" in arrays.files
        assert not any("__" in k for k in arrays.files)
    loaded = load_model(tmp_path / "m")
    assert type(loaded.base_.members_[0]).__name__ == "PLDA"
    np.testing.assert_array_equal(loaded.pair_score(X[:30], X[30:60]), model.pair_score(X[:30], X[30:60]))


def test_a_missing_nested_array_is_refused(tmp_path):
    X, y = make_identities()
    save_model(make_metric("s-norm", metric="lda", cohort_size=20).fit(X, y), tmp_path / "m")
    path = tmp_path / "m" / "model.json"
    meta = json.loads(path.read_text())
    del meta["metrics"]["base_"]["arrays"]["components_"]
    path.write_text(json.dumps(meta))
    with pytest.raises(InputError, match="holds arrays .* but model.json lists"):
        load_model(tmp_path / "m")


def test_format_1_models_load_unless_they_wrap_a_metric(tmp_path):
    X, y = make_identities()
    flat = make_metric("wccn").fit(X, y)
    save_model(flat, tmp_path / "flat")
    path = tmp_path / "flat" / "model.json"
    meta = json.loads(path.read_text())
    meta["format_version"] = 1  # a flat metric's layout did not change
    del meta["metrics"]
    path.write_text(json.dumps(meta))
    np.testing.assert_array_equal(load_model(tmp_path / "flat").pair_score(X[:5], X[5:10]),
                                  flat.pair_score(X[:5], X[5:10]))
    meta["state"]["base__n_features_in_"] = 8  # how format 1 mirrored an inner metric
    path.write_text(json.dumps(meta))
    with pytest.raises(InputError, match="model format 1.*fit the model again"):
        load_model(tmp_path / "flat")
