"""The README's commands, run as a new user runs them, on a small real subset of ../shared.

A newcomer's first LFW is a cut of pairs.txt: one fold (header `1 N`) and the images it names.
Here that copy is imported with `datasets fetch lfw --from`, a handful of images go through the
dlib and the SCRFD + ONNX pipelines, and the learned-metric, benchmark and contest commands run on
the MobileFaceNet reference descriptors (the README's `casia.npz` / `lfw_all.npz`). Every command
runs through `facemetric.cli.main.main` in a scratch folder, exactly as typed in the README but for
the file names. Skips when ../shared is absent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from facemetric.cli.main import main

pytestmark = [pytest.mark.shared, pytest.mark.slow]


def lfw_subset(lfw: Path, dest: Path, per_class: int) -> Path:
    """The first ``per_class`` matched and mismatched pairs of fold 1, as `1 per_class`, and their images."""
    lines = (lfw / "pairs.txt").read_text().splitlines()
    body = lines[1:1 + per_class] + lines[301:301 + per_class]
    dest.mkdir(parents=True)
    (dest / "pairs.txt").write_text(f"1 {per_class}\n" + "\n".join(body) + "\n")
    for line in body:
        t = line.split()
        names = [(t[0], t[1]), (t[0], t[2])] if len(t) == 3 else [(t[0], t[1]), (t[2], t[3])]
        for name, number in names:
            rel = Path(name) / f"{name}_{int(number):04d}.jpg"
            (dest / "images" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(lfw / "images" / rel, dest / "images" / rel)
    return dest


def run(capsys, command: str) -> str:
    """Run one README command line (``facemetric ...``); return its stdout then its stderr, failing with
    the stderr. Tables go to stdout; messages (one line each, however long) to stderr."""
    import shlex

    argv = shlex.split(command)
    assert argv[0] == "facemetric"
    code = main(argv[1:])
    captured = capsys.readouterr()
    assert code == 0, f"`{command}` failed with exit code {code}:\n{captured.err}"
    assert "Traceback" not in captured.err
    run.stdout = captured.out
    return captured.out + captured.err


@pytest.fixture
def newcomer(tmp_path, monkeypatch):
    """A scratch folder as the current directory, like a fresh checkout."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    return tmp_path


def test_the_main_job_on_a_one_fold_lfw_cut(newcomer, lfw_dir, capsys):
    lfw_subset(lfw_dir, newcomer / "lfw-copy", per_class=3)
    out = run(capsys, "facemetric datasets fetch lfw --from lfw-copy")
    assert "6 pairs" in out and (newcomer / "data/lfw/pairs.txt").is_file()
    out = run(capsys, "facemetric extract data/lfw/images --protocol data/lfw/pairs.txt "
                      "--detector dlib@0,1 --embedder dlib --flip --face central --workers 2 --out lfw_dlib.npz")
    assert "with flipped" in out and "failures: none" in out
    out = run(capsys, "facemetric evaluate lfw_dlib.npz data/lfw/pairs.txt --method cosine --out report/")
    report = json.loads((newcomer / "report/report.json").read_text())
    assert report["n_pairs"] == 6 and not report["folds_from_protocol"]
    assert any("single fold" in note for note in report["notes"]), report["notes"]
    assert (newcomer / "report/roc.png").is_file() and (newcomer / "report/det.png").is_file()
    assert "ROC-AUC" in out and max(len(line.rstrip()) for line in run.stdout.splitlines()) <= 80


def test_extraction_with_scrfd_and_an_onnx_model(newcomer, lfw_dir, models_dir, capsys):
    lfw_subset(lfw_dir, newcomer / "data/lfw", per_class=1)
    scrfd, onnx = models_dir / "scrfd_2.5g_bnkps.onnx", models_dir / "mobilefacenet_arcface_112.onnx"
    out = run(capsys, f"facemetric extract data/lfw/images --protocol data/lfw/pairs.txt --detector scrfd:{scrfd} "
                      f"--embedder onnx:{onnx} --flip --workers 1 --out lfw_onnx.npz")
    assert "descriptors (dim 128, with flipped)" in out
    facts = json.loads(run(capsys, "facemetric info lfw_onnx.npz --json"))
    assert facts["provenance"]["detector"] == "scrfd:scrfd_2.5g_bnkps.onnx"
    assert str(models_dir) not in json.dumps(facts)


def test_learn_a_metric_benchmark_and_host_a_contest(newcomer, lfw_dir, capsys):
    ref = lfw_dir / "descriptors_mobilefacenet_112x96.npz"
    lfw_subset(lfw_dir, newcomer / "data/lfw", per_class=300)  # fold 1 of View 2: 600 pairs, `1 300`
    shutil.copyfile(ref, newcomer / "lfw_all.npz")  # the README's names for the reference descriptors
    shutil.copyfile(ref, newcomer / "casia.npz")
    out = run(capsys, "facemetric benchmark data/lfw/pairs.txt --test lfw_all.npz --methods center,lda "
                      "--n-bootstrap 50 --out bench/")
    rows = {r["method"]: r for r in json.loads((newcomer / "bench/benchmark.json").read_text())}
    assert set(rows) == {"cosine", "l2", "center", "lda"}
    assert 0.95 < rows["cosine"]["auc"] <= 1 and "every column: bench/benchmark.md" in out
    assert max(len(line.rstrip()) for line in run.stdout.splitlines()) <= 80  # the compact table
    run(capsys, "facemetric fit casia.npz --method wccn --out models/wccn")
    run(capsys, "facemetric info models/wccn")
    run(capsys, "facemetric score lfw_all.npz data/lfw/pairs.txt --model models/wccn --out scores.csv")
    assert len((newcomer / "scores.csv").read_text().splitlines()) == 601
    run(capsys, "facemetric evaluate lfw_all.npz data/lfw/pairs.txt --model models/wccn --out report/")
    out = run(capsys, "facemetric challenge demo --descriptors lfw_all.npz --pairs data/lfw/pairs.txt")
    assert "baseline: cosine" in out and "learned:" in out
