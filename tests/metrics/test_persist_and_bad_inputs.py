"""Model files (model.json + arrays.npz) and the bad inputs every metric must refuse clearly."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from facemetric.errors import ConfigError, InputError, NotFittedError
from facemetric.metrics import CLOSED_FORM, LDA, METHODS, PLDA, WCCN, make_metric
from facemetric.metrics.base import SingletonIdentityWarning
from facemetric.metrics.persist import load_model, save_model
from facemetric.types import DescriptorSet, Provenance

from ._synthetic import make_identities

OWN = ["cosine", "l2", *CLOSED_FORM]


@pytest.mark.parametrize("name", OWN)
def test_round_trip_gives_identical_scores(tmp_path, name):
    X, y = make_identities(seed=3)
    metric = make_metric(name).fit(X, y)
    save_model(metric, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert type(loaded) is type(metric)
    assert loaded.get_params() == metric.get_params()
    np.testing.assert_array_equal(loaded.pair_score(X[:20], X[20:40]), metric.pair_score(X[:20], X[20:40]))


def test_model_json_records_class_params_versions_and_provenance(tmp_path):
    X, y = make_identities()
    ds = DescriptorSet(X=X, labels=y, ids=[f"{i}.jpg" for i in range(len(y))],
                       provenance=Provenance(backbone="netA", flip_fusion="sum"))
    WCCN(shrinkage=0.2).fit_descriptors(ds).save(tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    assert meta["class"] == "facemetric.metrics.wccn.WCCN" and meta["method"] == "wccn"
    assert meta["params"]["shrinkage"] == 0.2
    assert meta["n_features_in"] == X.shape[1]
    assert meta["provenance"]["backbone"] == "netA"
    assert {"facemetric", "numpy"} <= set(meta["versions"]) and meta["fitted_at"]
    with np.load(tmp_path / "arrays.npz", allow_pickle=False) as arrays:  # plain arrays only
        assert set(arrays.files) == {"mean_", "components_"}
    assert isinstance(WCCN.load(tmp_path), WCCN)
    with pytest.raises(InputError, match="holds a WCCN model, not a LDA"):
        LDA.load(tmp_path)


def _saved(tmp_path):
    X, y = make_identities()
    return LDA().fit(X, y).save(tmp_path / "m")


def test_load_refuses_unknown_class(tmp_path):
    d = _saved(tmp_path)
    meta = json.loads((d / "model.json").read_text())
    meta["class"] = "os.system"
    (d / "model.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="unknown model class 'os.system'"):
        load_model(d)


def test_load_refuses_corrupt_files(tmp_path):
    d = _saved(tmp_path)
    raw = (d / "arrays.npz").read_bytes()
    (d / "arrays.npz").write_bytes(raw[:-10] + b"0123456789")
    with pytest.raises(InputError, match="does not match the checksum"):
        load_model(d)
    (d / "model.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_model(d)
    (d / "model.json").unlink()
    with pytest.raises(InputError, match="model.json: does not exist"):
        load_model(d)


def test_load_refuses_missing_arrays_and_foreign_json(tmp_path):
    d = _saved(tmp_path)
    (d / "arrays.npz").unlink()
    with pytest.raises(InputError, match="arrays.npz: does not exist"):
        load_model(d)
    (d / "model.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(InputError, match="not a facemetric model file"):
        load_model(d)


def test_save_refuses_unfitted_and_scoring_refuses_unfitted(tmp_path):
    with pytest.raises(InputError, match="not fitted"):
        save_model(LDA(), tmp_path)
    with pytest.raises(NotFittedError, match="not fitted"):
        LDA().pair_score(np.ones((1, 3)), np.ones((1, 3)))


def test_model_from_another_backbone_is_refused(tmp_path):
    X, y = make_identities()
    ids = [f"{i}.jpg" for i in range(len(y))]
    train = DescriptorSet(X=X, labels=y, ids=ids, provenance=Provenance(backbone="netA"))
    LDA().fit_descriptors(train).save(tmp_path)
    model = load_model(tmp_path)
    model.check_descriptors(train)  # same backbone: fine
    other = DescriptorSet(X=X, labels=y, ids=ids, provenance=Provenance(backbone="netB"))
    with pytest.raises(InputError, match="backbone='netA'.*backbone='netB'"):
        model.check_descriptors(other)
    wrong_dim = DescriptorSet(X=X[:, :8], labels=y, ids=ids, provenance=Provenance(backbone="netA"))
    with pytest.raises(InputError, match="X has 8 features, but LDA is expecting 16"):
        model.check_descriptors(wrong_dim)


def test_backbone_is_judged_by_the_model_hash_when_both_record_one():
    X, y = make_identities()
    ids = [f"{i}.jpg" for i in range(len(y))]

    def with_prov(backbone, model_hash=None):
        extra = {} if model_hash is None else {"model_hash": model_hash}
        return DescriptorSet(X=X, labels=y, ids=ids, provenance=Provenance(backbone=backbone, extra=extra))

    model = LDA().fit_descriptors(with_prov("onnx:a.onnx", "1234"))
    model.check_descriptors(with_prov("onnx:renamed.onnx", "1234"))  # a renamed copy of the same model file
    model.check_descriptors(with_prov("unknown"))  # nothing recorded: only the dimension is checked
    with pytest.raises(InputError, match="another model file"):
        model.check_descriptors(with_prov("onnx:a.onnx", "9999"))  # same name, other weights


@pytest.mark.parametrize("name", [n for n in CLOSED_FORM if METHODS[n].needs_labels])
def test_single_identity_is_refused(name):
    X, _ = make_identities(n_ids=1, per_id=10)
    with pytest.raises(InputError, match="at least 2 identities to learn from; got 1 identity"):
        make_metric(name).fit(X, np.zeros(10))


@pytest.mark.parametrize("name", ["lda", "wccn", "lda-wccn", "kissme"])
def test_identities_with_one_image_are_dropped_with_a_warning(name):
    X, y = make_identities(n_ids=30, per_id=3)
    Xs, ys = make_identities(n_ids=5, per_id=1, seed=9)
    ys = np.char.add("single", ys)
    with pytest.warns(SingletonIdentityWarning, match="dropped 5 of 35 identities with fewer than 2 images"):
        make_metric(name).fit(np.vstack([X, Xs]), np.concatenate([y, ys]))


@pytest.mark.parametrize("name", ["lda", "wccn", "lda-wccn", "kissme", "plda", "joint-bayes"])
def test_only_single_image_identities_is_refused(name):
    X, y = make_identities(n_ids=10, per_id=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingletonIdentityWarning)
        with pytest.raises(InputError, match="at least 2 identities with 2 or more images"):
            make_metric(name).fit(X, y)


@pytest.mark.parametrize("name", OWN)
def test_dimension_mismatch_at_score_time(name):
    X, y = make_identities()
    metric = make_metric(name).fit(X, y)
    with pytest.raises(InputError, match="X has 15 features, but .* is expecting 16 features"):
        metric.pair_score(X[:3, :15], X[:3, :15])
    with pytest.raises(InputError, match="X has 15 features"):
        metric.score_pairs(X[:, :15], [0], [1])


@pytest.mark.parametrize("name", OWN)
def test_nan_is_refused_at_fit_and_score_time(name):
    X, y = make_identities()
    bad = X.copy()
    bad[7, 2] = np.nan
    with pytest.raises(InputError, match="NaN or inf values \\(first at row 7\\)"):
        make_metric(name).fit(bad, y)
    metric = make_metric(name).fit(X, y)
    with pytest.raises(InputError, match="NaN or inf"):
        metric.pair_score(bad[:10], X[:10])


def test_labels_must_match_rows_and_parameters_are_checked():
    X, y = make_identities()
    with pytest.raises(InputError, match="one identity label per descriptor"):
        PLDA().fit(X, y[:-1])
    with pytest.raises(InputError, match="requires y to be passed"):
        PLDA().fit(X)
    with pytest.raises(ConfigError, match="The 'n_iter' parameter of PLDA must be an int >= 0"):
        PLDA(n_iter=-1).fit(X, y)
