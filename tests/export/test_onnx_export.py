"""ONNX export of fitted metrics, run with onnxruntime against the library.

Every exportable method reproduces ``pair_score`` (and ``transform`` for projections) within
1e-4; the exported file reproduces ``facemetric score`` on a protocol; the fused backbone +
embedding model reproduces the backbone run alone followed by the metric (with the shared
ONNX model, skipped when absent); transductive methods are refused with the reason.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from facemetric.cli.main import main
from facemetric.errors import ConfigError
from facemetric.export.onnx_model import embedding_only_model, fused_model, score_model
from facemetric.io import save_descriptors, save_protocol
from facemetric.metrics import make_metric
from facemetric.metrics.persist import save_model
from facemetric.types import DescriptorSet, PairProtocol, Provenance

ort = pytest.importorskip("onnxruntime")

CASES = [
    ("cosine", {}), ("l2", {}), ("center", {}), ("pca-whiten", {}), ("lda", {}), ("wccn", {}), ("lda-wccn", {}),
    ("joint-bayes", {}), ("plda", {}), ("kissme", {}), ("ml-itml", {"max_iter": 5}),
    ("ml-nca", {"max_iter": 5, "similarity": "euclidean"}),
    ("z-norm", {"metric": "plda", "cohort_size": 40}), ("t-norm", {"metric": "l2", "cohort_size": 40}),
    ("s-norm", {"metric": "kissme", "cohort_size": 40}),
    ("as-norm", {"metric": "wccn", "cohort_size": 40, "top_k": 10}),
    ("calibrated", {"metric": "lda", "n_pairs": 500}), ("fusion", {"metrics": ["cosine", "plda"], "n_pairs": 500}),
    ("neural-mlp", {"hidden_dim": 8, "max_epochs": 1, "device": "cpu", "progress": False}),
]


def _data(dim=16, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(30), 5)
    X = (rng.standard_normal((30, dim))[y] * 2 + rng.standard_normal((150, dim)) + 1).astype(np.float32)
    return X, y.astype(str), rng


def _fit(name, params, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_metric(name, **params).fit(X, y)


def _run(model, feeds):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)[0]


@pytest.mark.parametrize(("name", "params"), CASES, ids=[c[0] for c in CASES])
def test_exported_graph_reproduces_the_library(name, params):
    if name.startswith("neural"):
        pytest.importorskip("torch")
    X, y, rng = _data()
    metric = _fit(name, params, X, y)
    A = (rng.standard_normal((64, 16)) + 1).astype(np.float32)
    B = (rng.standard_normal((64, 16)) + 1).astype(np.float32)
    got = _run(score_model(metric), {"a": A, "b": B})
    assert got.shape == (64,)
    np.testing.assert_allclose(got, metric.pair_score(A, B), rtol=0, atol=1e-4)
    if metric.is_projection:
        emb = _run(embedding_only_model(metric), {"x": A})
        np.testing.assert_allclose(emb, metric.transform(A), rtol=0, atol=1e-4)
    else:
        with pytest.raises(ConfigError, match="not a projection"):
            embedding_only_model(metric)


def test_export_cli_reproduces_facemetric_score(tmp_path, capsys):
    X, y, rng = _data()
    flipped = X[:, ::-1] + 0.1 * rng.standard_normal(X.shape).astype(np.float32)
    train = DescriptorSet(X=X, labels=y, ids=np.array([f"t/{i}.jpg" for i in range(150)]),
                          provenance=Provenance(backbone="bb"), X_flip=flipped)
    metric = make_metric("plda").fit_descriptors(train.fused("sum"))
    save_model(metric, tmp_path / "plda")
    test = DescriptorSet(X=X[::-1].copy(), labels=y, ids=np.array([f"s/{i}.jpg" for i in range(150)]),
                         provenance=Provenance(backbone="bb"), X_flip=flipped[::-1].copy())
    save_descriptors(test, tmp_path / "test.npz")
    ia, ib = rng.integers(0, 150, 300), rng.integers(0, 150, 300)
    save_protocol(PairProtocol.from_id_pairs(test.ids[ia], test.ids[ib]), tmp_path / "pairs.csv")
    assert main(["score", str(tmp_path / "test.npz"), str(tmp_path / "pairs.csv"), "--model", str(tmp_path / "plda"),
                 "--out", str(tmp_path / "scores.csv")]) == 0
    assert main(["export", str(tmp_path / "plda"), "--out", str(tmp_path / "head.onnx")]) == 0
    assert "inputs a, b; outputs score" in " ".join(capsys.readouterr().err.split())
    library = np.loadtxt(tmp_path / "scores.csv", delimiter=",", skiprows=1, usecols=1)
    fused = test.fused("sum").X
    session = ort.InferenceSession(str(tmp_path / "head.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["a", "b"] and session.get_outputs()[0].name == "score"
    onnx_scores = session.run(None, {"a": fused[ia], "b": fused[ib]})[0]
    np.testing.assert_allclose(onnx_scores, library, rtol=0, atol=1e-4)


def test_transductive_and_bad_requests_are_refused(tmp_path, capsys):
    X, y, _ = _data()
    for name in ("test-center", "k-reciprocal"):
        save_model(_fit(name, {}, X, y), tmp_path / name)
        assert main(["export", str(tmp_path / name), "--out", str(tmp_path / "x.onnx")]) == 1
        err = capsys.readouterr().err
        assert "transductive" in err and "cannot reproduce" in err and "Traceback" not in err
    save_model(_fit("plda", {}, X, y), tmp_path / "plda")
    assert main(["export", str(tmp_path / "plda"), "--out", str(tmp_path / "x.onnx"), "--embedding"]) == 1
    assert "not a projection metric" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "plda"), "--out", str(tmp_path / "x.txt")]) == 1
    assert "must end in .onnx" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.shared
@pytest.mark.parametrize("flip", ["none", "sum"])
def test_backbone_fusion_is_the_backbone_then_the_metric(tmp_path, models_dir, flip):
    backbone = models_dir / "mobilefacenet_arcface_112.onnx"
    if not backbone.exists():
        pytest.skip(f"{backbone} not found")
    X, y, rng = _data(dim=128)
    metric = _fit("wccn", {}, X, y)
    model = fused_model(metric, backbone, flip)
    image = rng.uniform(-1, 1, (1, 3, 112, 112)).astype(np.float32)
    got = _run(model, {"image": image})
    alone = ort.InferenceSession(str(backbone), providers=["CPUExecutionProvider"])
    d = alone.run(None, {"input0": image})[0]
    if flip == "sum":
        d = d + alone.run(None, {"input0": image[..., ::-1].copy()})[0]
    np.testing.assert_allclose(got, metric.transform(d), rtol=0, atol=1e-4)
    save_model(metric, tmp_path / "wccn")
    assert main(["export", str(tmp_path / "wccn"), "--backbone", str(backbone), "--flip", flip, "--out",
                 str(tmp_path / "fused.onnx")]) == 0
    with pytest.raises(Exception, match="512-d|expects"):
        fused_model(_fit("wccn", {}, *_data(dim=64)[:2]), backbone, flip)
