"""Method specs, the benchmark runner's bookkeeping, identities and the landmark reader."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.errors import ConfigError, InputError
from facemetric.metrics.cosine import Cosine
from facemetric.experiments.benchmark import run_benchmark
from facemetric.identity import identities_of
from facemetric.experiments.specs import MethodSpec, parse_methods, parse_value
from facemetric.experiments.report import benchmark_markdown
from facemetric.types import DescriptorSet


def test_parse_methods():
    specs = parse_methods('center, lda:n_components=8:shrinkage=0.2,k-reciprocal:metric={"method":"lda","n_components":4},lda')
    assert [s.name for s in specs] == ["center", "lda", "k-reciprocal", "lda"]
    assert specs[1].params == {"n_components": 8, "shrinkage": 0.2}
    assert specs[2].params == {"metric": {"method": "lda", "n_components": 4}}
    assert specs[3].params == {}
    assert parse_methods("lda,lda") == [MethodSpec("lda")]
    assert parse_value("none") is None and parse_value("true") is True and parse_value("wccn") == "wccn"
    assert MethodSpec("s-norm", {"metric": "wccn"}).label == 's-norm:metric="wccn"'
    assert not MethodSpec("s-norm", {"metric": "wccn"}).transductive
    assert MethodSpec("k-reciprocal").transductive
    assert MethodSpec("s-norm", {"metric": {"method": "test-center"}}).transductive
    assert MethodSpec("fusion", {"metrics": ["cosine", "test-center"]}).transductive
    with pytest.raises(ConfigError, match="key=value"):
        parse_methods("lda:oops")
    with pytest.raises(ConfigError, match="unbalanced"):
        parse_methods('lda:metric={"method":"lda"')
    with pytest.raises(ConfigError, match="names no method"):
        parse_methods(" , ")
    with pytest.raises(ConfigError, match="unknown metric"):
        MethodSpec("nope").factory()


def test_default_grid_builds():
    from facemetric.experiments.benchmark import default_specs

    specs = default_specs()
    assert "center" in [s.name for s in specs] and len({s.label for s in specs}) == len(specs)
    for spec in specs:  # each builds, with the grid's parameters applied
        params = spec.factory()().get_params(deep=False)
        assert all(params[k] == v for k, v in spec.params.items())


class Broken(Cosine):
    def _fit(self, X, y):
        raise InputError("this method cannot fit these data")


def test_failing_method_gets_an_error_row(synthetic, monkeypatch):
    from facemetric import metrics

    monkeypatch.setitem(metrics.METHODS, "broken", Broken)
    ds, protocol = synthetic
    run = run_benchmark([MethodSpec("broken"), MethodSpec("center")], ds, protocol, n_bootstrap=20)
    by = {r["method"]: r for r in run.rows}
    assert by["broken"]["error"] == "this method cannot fit these data" and by["broken"]["auc"] is None
    assert by["center"]["auc"] is not None
    ia, ib = protocol.resolve(ds)
    Z = ds.X / np.linalg.norm(ds.X, axis=1, keepdims=True)
    cos = roc_auc_score(protocol.labels, np.einsum("ij,ij->i", Z[ia], Z[ib]))
    assert by["cosine"]["auc"] == pytest.approx(cos)
    assert by["cosine"]["one_minus_auc_change_pct"] == 0.0
    pooled = 100 * ((1 - by["center"]["auc"]) - (1 - cos)) / (1 - cos)
    assert by["center"]["one_minus_auc_change_pooled_pct"] == pytest.approx(pooled)
    # k-fold: the headline is the mean of the folds' own changes (one model, one scale per fold)
    cos_scores, center = run.scores["cosine"].scores, run.scores["center"].scores
    changes = []
    for f in np.unique(protocol.folds):
        m = protocol.folds == f
        e0 = 1 - roc_auc_score(protocol.labels[m], cos_scores[m])
        changes.append(100 * ((1 - roc_auc_score(protocol.labels[m], center[m])) - e0) / e0)
    assert by["center"]["one_minus_auc_change_per_fold_pct"] == pytest.approx(changes)
    assert by["center"]["one_minus_auc_change_pct"] == pytest.approx(np.mean(changes))
    assert by["center"]["one_minus_auc_change_se"] == pytest.approx(np.std(changes, ddof=1) / np.sqrt(len(changes)))
    assert by["center"]["p_value_floor_vs_cosine"] == pytest.approx(2 / 2 ** len(changes))
    assert 0 < by["center"]["p_value_vs_cosine"] <= 1
    lo, hi = by["center"]["auc_ci"]
    assert lo <= by["center"]["auc"] <= hi
    md = benchmark_markdown(run.rows)
    assert md.count("\n") == 2 + len(run.rows) and "failed" in md
    assert run.best(1) == ["center"]


def test_identities_of(make_ds):
    ds = make_ds(n_ids=3, per_id=2)
    assert list(identities_of(ds)) == list(ds.labels)
    mixed = DescriptorSet(X=ds.X, labels=np.array(["x", ""] * 3), ids=ds.ids)
    assert list(identities_of(mixed)) == ["x", "id000", "x", "id001", "x", "id002"]
    flat = DescriptorSet(X=ds.X, labels=np.array([""] * 6), ids=np.array([f"{i}.jpg" for i in range(6)]))
    with pytest.raises(InputError, match="6 descriptor.*'0.jpg'"):
        identities_of(flat)


def test_json_rows_are_plain():
    from facemetric.io.jsonable import jsonable as _clean

    got = _clean({"a": np.float32(1.5), "b": [float("nan"), np.inf], "c": np.arange(2), 3: (np.bool_(True),)})
    assert got == {"a": 1.5, "b": [None, None], "c": [0, 1], "3": [True]}


def test_cache_key_follows_the_code(synthetic, monkeypatch, tmp_path):
    from facemetric import metrics
    from facemetric.experiments.score_cache import method_code_version

    class Child(Cosine):
        pass

    assert method_code_version("cosine") != method_code_version("l2")
    monkeypatch.setitem(metrics.METHODS, "child", Child)
    # only facemetric's own source files count: Child (defined here) inherits Cosine's key
    assert method_code_version("child") == method_code_version("cosine")
    ds, protocol = synthetic
    run_benchmark([MethodSpec("child")], ds, protocol, n_bootstrap=0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("child-*.npz"))) == 1
