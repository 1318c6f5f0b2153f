"""`facemetric evaluate` and `facemetric info`: toy sets, bad inputs, and the real LFW acceptance run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facemetric.cli.main import main
from facemetric.io import save_descriptors, save_protocol
from facemetric.types import DescriptorSet, PairProtocol


@pytest.fixture()
def toy_files(tmp_path):
    rng = np.random.default_rng(0)
    n_ids, per, d = 30, 3, 16
    centres = rng.normal(size=(n_ids, d))
    X = np.repeat(centres, per, axis=0) + 0.5 * rng.normal(size=(n_ids * per, d))
    labels = np.repeat([f"p{i:02d}" for i in range(n_ids)], per)
    ids = np.array([f"{lab}/{lab}_{k % per + 1:04d}.jpg" for k, lab in enumerate(labels)])
    ds = DescriptorSet(X=X.astype(np.float32), labels=labels, ids=ids, X_flip=(X + 0.1).astype(np.float32))
    a, b, y, folds = [], [], [], []
    for i in range(20):
        j = (i + 1) % 20
        a += [f"p{i:02d}/p{i:02d}_0001.jpg", f"p{i:02d}/p{i:02d}_0003.jpg"]
        b += [f"p{i:02d}/p{i:02d}_0002.jpg", f"p{j:02d}/p{j:02d}_0001.jpg"]
        y += [1, 0]
        folds += [i % 4, i % 4]
    p = PairProtocol.from_id_pairs(a, b, labels=y, folds=folds, name="toy")
    return save_descriptors(ds, tmp_path / "desc.npz"), save_protocol(p, tmp_path / "pairs.csv"), tmp_path


def test_evaluate_writes_report_and_plots(toy_files, capsys):
    desc, pairs, tmp = toy_files
    out = tmp / "out"
    code = main(
        [
            "evaluate",
            str(desc),
            str(pairs),
            "--method",
            "cosine",
            "--flip",
            "sum",
            "--out",
            str(out),
            "--n-bootstrap",
            "30",
            "--seed",
            "3",
        ]
    )
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    for key in (
        "auc",
        "accuracy",
        "accuracy_std",
        "eer",
        "tar_at_far",
        "n_pairs",
        "cis",
        "pairs",
        "config",
        "seed",
        "versions",
    ):
        assert key in report
    assert report["n_pairs"] == 40 and report["seed"] == 3 and report["config"]["flip"] == "sum"
    assert report["config"]["transductive"] is False
    assert set(report["tar_at_far"]) == {"1e-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6"}
    assert report["folds_from_protocol"] and report["n_folds"] == 4
    from facemetric.verify import roc_auc

    assert report["auc"] == pytest.approx(roc_auc(report["pairs"]["label"], report["pairs"]["score"]))
    assert (out / "roc.png").read_bytes()[:4] == b"\x89PNG" and (out / "det.png").exists()
    assert "ROC-AUC" in capsys.readouterr().out


def test_evaluate_flags_a_transductive_method(toy_files):
    desc, pairs, tmp = toy_files
    out = tmp / "trans"
    assert main(["evaluate", str(desc), str(pairs), "--method", "test-center", "--out", str(out),
                 "--n-bootstrap", "0", "--no-plots", "--no-progress"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["transductive"] is True
    assert any("transductive" in note for note in report["notes"])


@pytest.mark.parametrize("flip", ["none", "concat"])
def test_evaluate_l2_flip_modes(toy_files, flip):
    desc, pairs, tmp = toy_files
    code = main(
        [
            "evaluate",
            str(desc),
            str(pairs),
            "--method",
            "l2",
            "--flip",
            flip,
            "--out",
            str(tmp / flip),
            "--n-bootstrap",
            "0",
            "--no-plots",
        ]
    )
    assert code == 0
    assert json.loads((tmp / flip / "report.json").read_text())["config"]["method"] == "l2"
    assert not (tmp / flip / "roc.png").exists()


def test_evaluate_learned_method_without_model_says_so(toy_files, capsys):
    desc, pairs, tmp = toy_files
    code = main(
        [
            "evaluate",
            str(desc),
            str(pairs),
            "--method",
            "center",
            "--out",
            str(tmp / "c"),
            "--n-bootstrap",
            "0",
            "--no-plots",
        ]
    )
    assert code == 0
    report = json.loads((tmp / "c" / "report.json").read_text())
    assert "do not appear in the protocol" in report["notes"][0]
    assert "do not appear in the protocol" in " ".join(capsys.readouterr().err.split())


def test_evaluate_with_saved_model(toy_files):
    from facemetric.io import load_descriptors
    from facemetric.metrics import make_metric
    from facemetric.metrics.persist import save_model

    desc, pairs, tmp = toy_files
    ds = load_descriptors(desc).fused("sum")
    metric = make_metric("cosine").fit_descriptors(ds)
    save_model(metric, tmp / "model")
    code = main(
        [
            "evaluate",
            str(desc),
            str(pairs),
            "--model",
            str(tmp / "model"),
            "--out",
            str(tmp / "m"),
            "--n-bootstrap",
            "0",
            "--no-plots",
        ]
    )
    assert code == 0
    report = json.loads((tmp / "m" / "report.json").read_text())
    assert report["config"]["model"] == str(tmp / "model") and "loaded from" in report["notes"][0]


def run_error(argv, capsys) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_evaluate_bad_inputs(toy_files, capsys):
    desc, pairs, tmp = toy_files
    o = ["--out", str(tmp / "x"), "--n-bootstrap", "0", "--no-plots"]
    assert "does not exist" in run_error(["evaluate", str(tmp / "nope.npz"), str(pairs), *o], capsys)
    assert "unknown method 'magic'" in run_error(
        ["evaluate", str(desc), str(pairs), "--method", "magic", *o], capsys
    )
    # a --flip outside the choices is a usage error, caught before any file is read
    assert main(["evaluate", str(desc), str(pairs), "--flip", "max", *o]) == 2
    assert "'max' is not one of 'auto', 'none', 'sum', 'concat'" in capsys.readouterr().err
    assert "unknown protocol format" in run_error(
        ["evaluate", str(desc), str(pairs), "--format", "xml", *o], capsys
    )
    (tmp / "one.csv").write_text(
        "a,b,label\np00/p00_0001.jpg,p00/p00_0002.jpg,1\np01/p01_0001.jpg,p01/p01_0002.jpg,1\n"
    )
    assert "labels are same-person" in run_error(["evaluate", str(desc), str(tmp / "one.csv"), *o], capsys)
    (tmp / "past.csv").write_text("p00/p00_0001.jpg,zz/zz_0001.jpg,1\np01/p01_0001.jpg,p02/p02_0001.jpg,0\n")
    assert "past.csv:1: image 'zz/zz_0001.jpg' has no descriptor" in run_error(
        ["evaluate", str(desc), str(tmp / "past.csv"), *o, "--missing", "error"], capsys
    )
    assert "'missing' parameter must be one of reject, drop, error. Got 'skip'" in run_error(
        ["evaluate", str(desc), str(pairs), *o, "--missing", "skip"], capsys)
    (tmp / "empty.csv").write_text("a,b,label\n")
    assert "no pairs" in run_error(["evaluate", str(desc), str(tmp / "empty.csv"), *o], capsys)
    (tmp / "hidden.csv").write_text("p00/p00_0001.jpg,p00/p00_0002.jpg\n")
    assert "hidden labels" in run_error(["evaluate", str(desc), str(tmp / "hidden.csv"), *o], capsys)
    cut = tmp / "cut.npz"
    cut.write_bytes(desc.read_bytes()[:200])
    assert "truncated" in run_error(["evaluate", str(cut), str(pairs), *o], capsys)


def test_info_descriptors_and_protocols(toy_files, capsys):
    desc, pairs, tmp = toy_files
    assert main(["info", str(desc), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["kind"] == "descriptors" and facts["n_descriptors"] == 90 and facts["dim"] == 16
    assert facts["n_identities"] == 30 and facts["has_flip"]
    assert main(["info", str(pairs), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["kind"] == "protocol" and facts["n_pairs"] == 40 and facts["n_matched"] == 20
    assert facts["pairs_per_fold"] == [10, 10, 10, 10]
    assert main(["info", str(pairs)]) == 0
    assert "n_pairs" in capsys.readouterr().out
    assert "does not exist" in run_error(["info", str(tmp / "none.txt")], capsys)


def test_info_counts_identities_from_the_layout_when_labels_are_empty(tmp_path, capsys):
    from facemetric.io import save_descriptors
    from facemetric.types import DescriptorSet

    ids = [f"Data/Images/{k // 3:03d}/{'frontal' if k % 3 else 'profile'}/{k % 3 + 1:02d}.jpg" for k in range(12)]
    save_descriptors(DescriptorSet(X=np.eye(12, 4), labels=[""] * 12, ids=ids), tmp_path / "d.npz")
    assert main(["info", str(tmp_path / "d.npz")]) == 0
    text = capsys.readouterr().out
    assert "n_identities" in text and "image ids (cfp)" in text
    assert main(["info", str(tmp_path / "d.npz"), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["n_identities"] == 4 and facts["unknown_labels"] == 12


@pytest.mark.parametrize("verb", ["evaluate", "info"])
def test_help(verb):
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "facemetric"), verb, "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "Usage" in proc.stdout


def test_acceptance_on_real_lfw(lfw_dir, tmp_path):
    """The issue's "done means": cosine 0.9815 / 0.9973 and L2 AUC 0.9914 from the CLI entry point."""
    exe = str(Path(sys.executable).parent / "facemetric")
    desc = lfw_dir / "descriptors_mobilefacenet_112x96.npz"
    figures = {}
    for method in ("cosine", "l2"):
        out = tmp_path / method
        proc = subprocess.run(
            [
                exe,
                "evaluate",
                str(desc),
                str(lfw_dir / "pairs.txt"),
                "--method",
                method,
                "--flip",
                "sum",
                "--out",
                str(out),
                "--n-bootstrap",
                "50",
            ],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        figures[method] = json.loads((out / "report.json").read_text())
    cos, l2 = figures["cosine"], figures["l2"]
    assert cos["auc"] == pytest.approx(0.9973, abs=2e-4)
    assert cos["accuracy"] == pytest.approx(0.9815, abs=1e-3)
    assert l2["auc"] == pytest.approx(0.9914, abs=2e-4)
    assert (
        cos["n_pairs"] == 6000 and cos["tar_at_far"]["1e-3"] is not None and cos["tar_at_far"]["1e-4"] is None
    )
    assert cos["cis"]["auc"][0] < cos["auc"] < cos["cis"]["auc"][1]


def test_evaluate_resamples_identities_by_default(toy_files, capsys):
    """The default interval resamples the people of the pairs (the protocol's identities); --resample
    picks folds or pairs instead, and report.json records what was resampled."""
    from facemetric.io import load_descriptors, load_protocol
    from facemetric.identity import pair_identities
    from facemetric.verify import bootstrap_cis

    from facemetric.types import DescriptorSet

    desc, pairs, tmp = toy_files
    toy = load_descriptors(desc)
    rng = np.random.default_rng(1)
    noisy = DescriptorSet(X=(toy.X + 1.5 * rng.normal(size=toy.X.shape)).astype(np.float32), labels=toy.labels,
                          ids=toy.ids)  # hard enough that the AUC is below 1
    desc = save_descriptors(noisy, tmp / "noisy.npz")
    reports = {}
    for unit in ("auto", "fold", "pair"):
        out = tmp / unit
        code = main(["evaluate", str(desc), str(pairs), "--out", str(out), "--n-bootstrap", "200", "--no-plots",
                     "--resample", unit])
        assert code == 0, capsys.readouterr().err
        reports[unit] = json.loads((out / "report.json").read_text())
    auto = reports["auto"]
    assert auto["resample"] == "identity" and auto["n_resample_units"] == 20 and auto["config"]["resample"] == "identity"
    assert reports["fold"]["resample"] == "fold" and reports["fold"]["n_resample_units"] == 4
    assert reports["pair"]["resample"] == "pair" and reports["pair"]["n_resample_units"] == 40
    # the default is the library's identity-aware interval on the protocol's identities
    protocol = load_protocol(pairs)
    ds = load_descriptors(desc)
    y, s = np.asarray(auto["pairs"]["label"]), np.asarray(auto["pairs"]["score"])
    expect = bootstrap_cis(y, s, protocol.folds, groups=pair_identities(protocol, ds), n_bootstrap=200, seed=0)
    assert auto["cis"]["auc"] == pytest.approx(list(expect["auc"]))
    assert auto["auc"] < 0.99 and auto["cis"]["auc"] != reports["pair"]["cis"]["auc"]
    assert "identities" in capsys.readouterr().out  # the table's caption says what was resampled
    code = main(["evaluate", str(desc), str(pairs), "--out", str(tmp / "bad"), "--resample", "people"])
    assert code == 2
