"""`facemetric fit`, `score`, `benchmark` and `protocol cross-pose` on tiny synthetic data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.cli.main import main
from facemetric.io import load_protocol, save_descriptors, save_protocol
from facemetric.types import DescriptorSet, PairProtocol, Provenance


def make_set(n_ids=40, per_id=5, dim=16, seed=0, prefix="id", backbone="synthetic", labels=True, nuisance=5.0):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(n_ids, dim))
    scale = np.ones(dim)
    scale[: dim // 4] = nuisance
    X, names, ids = [], [], []
    for i in range(n_ids):
        for j in range(per_id):
            X.append(means[i] + 0.6 * rng.normal(size=dim) * scale)
            names.append(f"{prefix}{i:03d}")
            ids.append(f"{prefix}{i:03d}/{prefix}{i:03d}_{j + 1:04d}.jpg")
    X = np.asarray(X, dtype=np.float32)
    flip = X + 0.05 * rng.normal(size=X.shape).astype(np.float32)
    return DescriptorSet(X=X, X_flip=flip, labels=np.array(names) if labels else np.array([""] * len(names)),
                         ids=np.array(ids), provenance=Provenance(backbone=backbone))


def make_pairs(ds, n_folds=3, per_fold=40, seed=0, labels=True, folds=True):
    rng = np.random.default_rng(seed)
    ident = np.array([i.split("/")[0] for i in ds.ids])
    groups = np.array_split(np.unique(ident), n_folds)
    a, b, y, f = [], [], [], []
    for k, group in enumerate(groups):
        for _ in range(per_fold):
            n = rng.choice(group)
            i, j = rng.choice(np.flatnonzero(ident == n), 2, replace=False)
            n1, n2 = rng.choice(group, 2, replace=False)
            a += [ds.ids[i], ds.ids[rng.choice(np.flatnonzero(ident == n1))]]
            b += [ds.ids[j], ds.ids[rng.choice(np.flatnonzero(ident == n2))]]
            y += [1, 0]
            f += [k, k]
    return PairProtocol.from_id_pairs(a, b, labels=y if labels else None, folds=f if folds else None,
                                      name="synthetic", pair_ids=[f"q{i}" for i in range(len(a))])


@pytest.fixture
def files(tmp_path):
    train = make_set(n_ids=40, seed=1, prefix="tr")
    test = make_set(n_ids=30, seed=2, prefix="te")
    save_descriptors(train, tmp_path / "train.npz")
    save_descriptors(test, tmp_path / "test.npz")
    pairs = make_pairs(test)
    save_protocol(pairs, tmp_path / "pairs.csv")
    return tmp_path, train, test, pairs


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def assert_one_line_error(code, err, *needles):
    assert code == 1
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


# --- fit ------------------------------------------------------------------------------------

def test_fit_then_score_matches_the_library(files, capsys):
    tmp, train, test, pairs = files
    code, _, err = run_cli(capsys, "fit", tmp / "train.npz", "--method", "wccn", "--param", "shrinkage=0.2",
                           "--out", tmp / "model")
    assert code == 0, err
    assert (tmp / "model" / "model.json").exists()
    code, _, err = run_cli(capsys, "score", tmp / "test.npz", tmp / "pairs.csv", "--model", tmp / "model",
                           "--out", tmp / "scores.csv")
    assert code == 0, err
    lines = (tmp / "scores.csv").read_text().splitlines()
    assert lines[0] == "pair_id,score" and len(lines) == len(pairs) + 1
    got = {pid: float(s) for pid, s in (line.split(",") for line in lines[1:])}

    from facemetric.metrics import make_metric

    metric = make_metric("wccn", shrinkage=0.2).fit_descriptors(train.fused("sum"))
    fused = test.fused("sum")
    ia, ib = pairs.resolve(fused)
    expected = metric.score_pairs(fused.X, ia, ib)
    np.testing.assert_allclose([got[p] for p in pairs.pair_ids], expected, rtol=1e-6, atol=1e-6)
    assert not [p for p in os.listdir(tmp) if p.startswith(".scores.csv")]  # no temporary file left


def test_fit_takes_identities_from_folders(tmp_path, capsys):
    labelled = make_set(seed=3)
    unlabelled = make_set(seed=3, labels=False)
    save_descriptors(labelled, tmp_path / "a.npz")
    save_descriptors(unlabelled, tmp_path / "b.npz")
    for name in ("a", "b"):
        code, _, err = run_cli(capsys, "fit", tmp_path / f"{name}.npz", "--method", "lda", "--flip", "none",
                               "--out", tmp_path / f"model_{name}")
        assert code == 0, err
    from facemetric.metrics.persist import load_model

    ma, mb = load_model(tmp_path / "model_a"), load_model(tmp_path / "model_b")
    assert list(ma.training_identities_) == list(mb.training_identities_) == sorted(set(labelled.labels))
    X = labelled.X[:10]
    np.testing.assert_allclose(ma.pair_score(X, X[::-1]), mb.pair_score(X, X[::-1]), rtol=1e-6)


@pytest.mark.parametrize(
    "extra, needles",
    [
        (["--method", "no-such-method"], ["unknown metric"]),
        (["--method", "lda", "--param", "no_such=1"], ["no parameter 'no_such'"]),
        (["--method", "lda", "--param", "oops"], ["key=value"]),
    ],
)
def test_fit_bad_options(files, capsys, extra, needles):
    tmp = files[0]
    code, _, err = run_cli(capsys, "fit", tmp / "train.npz", *extra, "--out", tmp / "m")
    assert_one_line_error(code, err, *needles)


def test_fit_bad_flip_is_a_usage_error(files, capsys):
    tmp = files[0]
    code, _, err = run_cli(capsys, "fit", tmp / "train.npz", "--method", "lda", "--flip", "sideways",
                           "--out", tmp / "m")
    assert code == 2 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("Error: ")] == [
        "Error: Invalid value for '--flip': Value error, 'sideways' is not one of 'auto', 'none', 'sum', "
        "'concat'."]


def test_fit_bad_data(tmp_path, capsys):
    one = make_set(n_ids=1, per_id=6)
    save_descriptors(one, tmp_path / "one.npz")
    code, _, err = run_cli(capsys, "fit", tmp_path / "one.npz", "--method", "lda", "--out", tmp_path / "m")
    assert_one_line_error(code, err, "at least 2 identities")

    singletons = make_set(n_ids=8, per_id=1)
    save_descriptors(singletons, tmp_path / "singletons.npz")
    code, _, err = run_cli(capsys, "fit", tmp_path / "singletons.npz", "--method", "lda", "--out", tmp_path / "m")
    assert code == 1 and "error:" in err and "2 or more images" in err

    ds = make_set(n_ids=3)
    anonymous = DescriptorSet(X=ds.X, labels=np.array([""] * len(ds)), ids=np.array([f"img{i}.jpg" for i in
                                                                                       range(len(ds))]))
    save_descriptors(anonymous, tmp_path / "anon.npz")
    code, _, err = run_cli(capsys, "fit", tmp_path / "anon.npz", "--method", "lda", "--out", tmp_path / "m")
    assert_one_line_error(code, err, "neither an identity label nor a folder")

    bad = dict(np.load(tmp_path / "one.npz"))
    bad["X"] = bad["X"].copy()
    bad["X"][2, 3] = np.nan
    np.savez(tmp_path / "nan.npz", **bad)
    code, _, err = run_cli(capsys, "fit", tmp_path / "nan.npz", "--method", "lda", "--out", tmp_path / "m")
    assert_one_line_error(code, err, "nan.npz", "NaN")


# --- score ----------------------------------------------------------------------------------

def test_score_refuses_foreign_descriptors(files, capsys):
    tmp, train, test, pairs = files
    assert run_cli(capsys, "fit", tmp / "train.npz", "--method", "center", "--out", tmp / "model")[0] == 0
    other_dim = make_set(n_ids=30, seed=2, prefix="te", dim=12)
    save_descriptors(other_dim, tmp / "dim12.npz")
    code, _, err = run_cli(capsys, "score", tmp / "dim12.npz", tmp / "pairs.csv", "--model", tmp / "model",
                           "--out", tmp / "s.csv")
    assert_one_line_error(code, err, "12", "16", "same backbone")
    other_backbone = make_set(n_ids=30, seed=2, prefix="te", backbone="resnet100")
    save_descriptors(other_backbone, tmp / "resnet.npz")
    code, _, err = run_cli(capsys, "score", tmp / "resnet.npz", tmp / "pairs.csv", "--model", tmp / "model",
                           "--out", tmp / "s.csv")
    assert_one_line_error(code, err, "backbone", "resnet100")
    missing = make_pairs(make_set(n_ids=30, seed=2, prefix="zz"))
    save_protocol(missing, tmp / "other.csv")
    code, _, err = run_cli(capsys, "score", tmp / "test.npz", tmp / "other.csv", "--model", tmp / "model",
                           "--out", tmp / "s.csv")
    assert_one_line_error(code, err, "no descriptor")
    code, _, err = run_cli(capsys, "score", tmp / "test.npz", tmp / "pairs.csv", "--model", tmp / "nowhere",
                           "--out", tmp / "s.csv")
    assert code == 1 and "nowhere" in err and "Traceback" not in err
    assert not (tmp / "s.csv").exists()


# --- benchmark ------------------------------------------------------------------------------

def test_benchmark_kfold(files, capsys):
    tmp, train, test, pairs = files
    code, out, err = run_cli(capsys, "benchmark", tmp / "pairs.csv", "--test", tmp / "test.npz",
                             "--methods", "wccn,test-center", "--n-bootstrap", "50", "--out", tmp / "bench")
    assert code == 0, err
    rows = json.loads((tmp / "bench" / "benchmark.json").read_text())
    by = {r["method"]: r for r in rows}
    assert list(by) == ["cosine", "l2", "wccn", "test-center"]
    for r in rows:
        assert {"method", "auc", "accuracy", "transductive"} <= set(r)
    assert by["test-center"]["transductive"] is True and by["wccn"]["transductive"] is False
    fused = test.fused("sum")
    ia, ib = pairs.resolve(fused)
    Z = fused.X / np.linalg.norm(fused.X, axis=1, keepdims=True)
    assert by["cosine"]["auc"] == pytest.approx(roc_auc_score(pairs.labels, np.einsum("ij,ij->i", Z[ia], Z[ib])))
    # nuisance directions dominate the noise: the learned metric must beat cosine clearly
    assert by["wccn"]["auc"] > by["cosine"]["auc"] + 0.02
    assert by["wccn"]["one_minus_auc_change_pct"] < -25
    assert by["wccn"]["mode"] == "kfold" and len(by["wccn"]["fold_auc"]) == 3
    assert (tmp / "bench" / "roc.png").stat().st_size > 1000
    assert (tmp / "bench" / "roc_det.png").read_bytes()[:4] == b"\x89PNG"
    assert "wccn" in out and "vs cos" in out  # the compact table of an 80-column console
    assert f"every column: {tmp / 'bench' / 'benchmark.md'}" in out


def test_benchmark_resumes_from_cache(files, capsys):
    tmp = files[0]
    args = ["benchmark", tmp / "pairs.csv", "--test", tmp / "test.npz", "--methods", "center",
            "--n-bootstrap", "0", "--no-plots", "--out", tmp / "bench"]
    assert run_cli(capsys, *args)[0] == 0
    cached = sorted((tmp / "bench" / "scores").glob("*.npz"))
    assert len(cached) == 3
    stamps = [p.stat().st_mtime_ns for p in cached]
    first = json.loads((tmp / "bench" / "benchmark.json").read_text())
    assert run_cli(capsys, *args)[0] == 0
    assert [p.stat().st_mtime_ns for p in cached] == stamps
    second = json.loads((tmp / "bench" / "benchmark.json").read_text())
    assert [r["auc"] for r in first] == [r["auc"] for r in second]


def test_benchmark_train_test_and_overlap_warning(files, capsys):
    tmp, train, test, pairs = files
    code, _, err = run_cli(capsys, "benchmark", tmp / "pairs.csv", "--train", tmp / "train.npz", "--test",
                           tmp / "test.npz", "--methods", "lda", "--n-bootstrap", "0", "--out", tmp / "tt")
    assert code == 0, err
    assert "warning" not in err
    rows = json.loads((tmp / "tt" / "benchmark.json").read_text())
    assert {r["mode"] for r in rows} == {"train-test"}
    code, _, err = run_cli(capsys, "benchmark", tmp / "pairs.csv", "--train", tmp / "test.npz", "--test",
                           tmp / "test.npz", "--methods", "lda", "--n-bootstrap", "0", "--out", tmp / "tt2")
    assert code == 0
    assert "warning:" in err and "optimistic" in err


def test_benchmark_bad_inputs(files, capsys):
    tmp, train, test, pairs = files
    code, _, err = run_cli(capsys, "benchmark", tmp / "pairs.csv", "--test", tmp / "test.npz", "--methods",
                           "lda,nope", "--out", tmp / "b")
    assert_one_line_error(code, err, "unknown metric 'nope'")
    save_protocol(make_pairs(test, folds=False), tmp / "nofolds.csv")
    code, _, err = run_cli(capsys, "benchmark", tmp / "nofolds.csv", "--test", tmp / "test.npz", "--methods",
                           "lda", "--out", tmp / "b")
    assert code == 1 and "--train" in err and "Traceback" not in err
    save_protocol(make_pairs(test, labels=False), tmp / "hidden.csv")
    code, _, err = run_cli(capsys, "benchmark", tmp / "hidden.csv", "--test", tmp / "test.npz", "--out", tmp / "b")
    assert_one_line_error(code, err, "no labels")


# --- protocol cross-pose --------------------------------------------------------------------

def write_landmarks(path: Path, ds: DescriptorSet, seed: int = 0) -> np.ndarray:
    """Landmarks of faces turned by a random yaw (orthographic projection of a 3-D template)."""
    rng = np.random.default_rng(seed)
    yaw = rng.uniform(-50, 50, size=len(ds))
    face = np.array([[-31.5, 35, 0], [31.5, 35, 0], [0, 0, 28.35], [-25, -30, 0], [25, -30, 0]])
    with open(path, "w") as fh:
        for i, (image_id, t) in enumerate(zip(ds.ids, np.radians(yaw))):
            x = face[:, 0] * np.cos(t) + face[:, 2] * np.sin(t) + 125
            y = -face[:, 1] + 125
            pts = " ".join(f"{u:.3f} {v:.3f}" for u, v in zip(x, y))
            fh.write(f"{image_id} 50 50 200 200 0.99 {pts}\n")
    return yaw


def test_protocol_cross_pose(tmp_path, capsys):
    ds = make_set(n_ids=60, per_id=4, seed=5)
    save_descriptors(ds, tmp_path / "d.npz")
    yaw = write_landmarks(tmp_path / "lm.txt", ds)
    code, _, err = run_cli(capsys, "protocol", "cross-pose", "-d", tmp_path / "d.npz", "-l", tmp_path / "lm.txt",
                           "--n-folds", "3", "--pairs-per-fold", "20", "--out", tmp_path / "cp.csv")
    assert code == 0, err
    p = load_protocol(tmp_path / "cp.csv")
    assert len(p) == 120 and p.labels.sum() == 60 and sorted(np.unique(p.folds)) == [0, 1, 2]
    side = json.loads((tmp_path / "cp.csv.json").read_text())
    assert side["config"]["pairs_per_fold"] == 20 and side["n_pairs"] == 120
    assert side["mining"]["source"] == "pose" and side["mining"]["yaw_band"] == 10.0
    row = {s: i for i, s in enumerate(ds.ids)}
    gap = np.abs(yaw[[row[s] for s in p.a]] - yaw[[row[s] for s in p.b]])
    # negatives matched on yaw bands: their yaw gaps are the positives', within a band
    assert abs(np.median(gap[p.labels == 1]) - np.median(gap[p.labels == 0])) < 10.0
    # the generated protocol feeds the benchmark, whose config records the mining source
    code, _, err = run_cli(capsys, "benchmark", tmp_path / "cp.csv", "--test", tmp_path / "d.npz", "--methods",
                           "center", "--n-bootstrap", "0", "--no-plots", "--out", tmp_path / "b")
    assert code == 0, err
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    assert config["protocol_construction"]["mining"]["source"] == "pose"
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "d.npz", tmp_path / "cp.csv", "--n-bootstrap", "0",
                           "--no-plots", "--out", tmp_path / "e")
    assert code == 0, err
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    assert report["config"]["protocol_construction"]["mining"]["rule"] == "random impostors matched on yaw bands"
    assert any("matched on yaw bands" in note for note in report["notes"])


def test_protocol_cross_pose_pose_negatives_ignore_the_descriptor_values(tmp_path, capsys):
    """Two descriptor sets of the same images and identities but other values: the same protocol."""
    ds = make_set(n_ids=60, per_id=4, seed=5)
    other = DescriptorSet(X=np.random.default_rng(9).normal(size=ds.X.shape).astype(np.float32), labels=ds.labels,
                          ids=ds.ids, provenance=Provenance(backbone="other"))
    save_descriptors(ds, tmp_path / "d.npz")
    save_descriptors(other, tmp_path / "o.npz")
    write_landmarks(tmp_path / "lm.txt", ds)
    for name in ("d", "o"):
        code, _, err = run_cli(capsys, "protocol", "cross-pose", "-d", tmp_path / f"{name}.npz", "-l",
                               tmp_path / "lm.txt", "--n-folds", "3", "--pairs-per-fold", "20",
                               "--out", tmp_path / f"cp-{name}.csv")
        assert code == 0, err
    assert (tmp_path / "cp-d.csv").read_text() == (tmp_path / "cp-o.csv").read_text()


def test_protocol_cross_pose_mined_with_a_second_model(tmp_path, capsys):
    ds = make_set(n_ids=60, per_id=4, seed=5)
    second = make_set(n_ids=60, per_id=4, seed=6, backbone="second")  # same ids, another "model"
    save_descriptors(ds, tmp_path / "d.npz")
    save_descriptors(second, tmp_path / "m.npz")
    write_landmarks(tmp_path / "lm.txt", ds)
    args = ["protocol", "cross-pose", "-d", tmp_path / "d.npz", "-l", tmp_path / "lm.txt", "--n-folds", "3",
            "--pairs-per-fold", "20", "--flip", "sum"]
    code, _, err = run_cli(capsys, *args, "--mine-with", tmp_path / "m.npz", "--out", tmp_path / "cp.csv")
    assert code == 0, err
    side = json.loads((tmp_path / "cp.csv.json").read_text())
    mining = side["mining"]
    assert mining["source"] == "descriptors" and mining["descriptors"].endswith("m.npz")
    assert mining["fingerprint"]["backbone"] == "second" and len(mining["fingerprint"]["content_sha256"]) == 16
    # the negatives are the second model's hardest impostors: far above its random impostor pairs
    p = load_protocol(tmp_path / "cp.csv")
    Z = second.X + second.X_flip
    Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    row = {s: i for i, s in enumerate(second.ids)}
    ia, ib = np.array([row[s] for s in p.a]), np.array([row[s] for s in p.b])
    neg = np.einsum("ij,ij->i", Z[ia], Z[ib])[p.labels == 0]
    rng = np.random.default_rng(0)
    r1, r2 = rng.integers(0, len(Z), 3000), rng.integers(0, len(Z), 3000)
    impostor = second.labels[r1] != second.labels[r2]
    assert np.median(neg) > np.percentile(np.einsum("ij,ij->i", Z[r1], Z[r2])[impostor], 90)
    # the mining model itself may not be evaluated on its protocol; the first model may
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "m.npz", tmp_path / "cp.csv", "--n-bootstrap", "0",
                           "--no-plots", "--out", tmp_path / "e")
    assert_one_line_error(code, err, "m.npz", "mined the negatives of", "without --mine-with")
    code, _, err = run_cli(capsys, "benchmark", tmp_path / "cp.csv", "--test", tmp_path / "m.npz", "--methods",
                           "center", "--n-bootstrap", "0", "--no-plots", "--out", tmp_path / "b")
    assert_one_line_error(code, err, "m.npz", "mined the negatives of")
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "d.npz", tmp_path / "cp.csv", "--n-bootstrap", "0",
                           "--no-plots", "--out", tmp_path / "e")
    assert code == 0, err
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    assert report["config"]["protocol_construction"]["mining"]["fingerprint"] == mining["fingerprint"]
    # mining with the very descriptors listed is refused
    code, _, err = run_cli(capsys, *args, "--mine-with", tmp_path / "d.npz", "--out", tmp_path / "cp2.csv")
    assert_one_line_error(code, err, "d.npz", "are the --descriptors themselves")
    assert not (tmp_path / "cp2.csv").exists()


def test_protocol_cross_pose_bad_landmarks(tmp_path, capsys):
    ds = make_set(n_ids=30, per_id=3, seed=5)
    save_descriptors(ds, tmp_path / "d.npz")
    (tmp_path / "lm.txt").write_text("a/b.jpg 1 2 3\n")
    code, _, err = run_cli(capsys, "protocol", "cross-pose", "-d", tmp_path / "d.npz", "-l", tmp_path / "lm.txt",
                           "--out", tmp_path / "cp.csv")
    assert_one_line_error(code, err, "lm.txt", "line 1: expected 16 fields")
    (tmp_path / "lm.txt").write_text("other/x.jpg" + " 1" * 15 + "\n")
    code, _, err = run_cli(capsys, "protocol", "cross-pose", "-d", tmp_path / "d.npz", "-l", tmp_path / "lm.txt",
                           "--out", tmp_path / "cp.csv")
    assert_one_line_error(code, err, "no descriptor id matches a landmark id")
    write_landmarks(tmp_path / "lm.txt", ds)
    code, _, err = run_cli(capsys, "protocol", "cross-pose", "-d", tmp_path / "d.npz", "-l", tmp_path / "lm.txt",
                           "--n-folds", "1", "--out", tmp_path / "cp.csv")
    assert_one_line_error(code, err, "n_folds")


def test_every_verb_has_help(capsys):
    for verb in (["fit"], ["score"], ["benchmark"], ["protocol", "cross-pose"]):
        code, out, _ = run_cli(capsys, *verb, "--help")
        assert code == 0 and "--out" in out
