"""`facemetric scale score|extract`: outputs, evaluation report, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from facemetric.cli.main import main
from facemetric.io import save_descriptors
from facemetric.metrics import METHODS
from facemetric.types import DescriptorSet


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 20, 200)
    X = (rng.normal(size=(20, 16))[y] + 0.4 * rng.normal(size=(200, 16))).astype(np.float32)
    ds = DescriptorSet(X=X, labels=y.astype(str), ids=[f"{c}/{i}.jpg" for i, c in enumerate(y)])
    save_descriptors(ds, tmp_path / "desc.npz")
    ia, ib = rng.integers(0, 200, 5000), rng.integers(0, 200, 5000)
    np.save(tmp_path / "pairs.npy", np.stack([ia, ib], axis=1))
    np.savez(tmp_path / "labelled.npz", pairs=np.stack([ia, ib], axis=1), labels=(y[ia] == y[ib]).astype(int))
    return ds, ia, ib, tmp_path


def test_score_writes_scores_in_pair_order(files, capsys):
    ds, ia, ib, tmp = files
    code = main(["scale", "score", str(tmp / "desc.npz"), str(tmp / "pairs.npy"), "--method", "l2",
                 "--out", str(tmp / "s.npy"), "--dask-workers", "1", "--partition-size", "700", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    expected = METHODS["l2"]().fit(ds.X[:1]).score_pairs(ds.X, ia, ib)
    np.testing.assert_array_equal(np.load(tmp / "s.npy"), expected)


def test_score_evaluates_labelled_pairs(files, capsys):
    from sklearn.metrics import roc_auc_score

    ds, ia, ib, tmp = files
    code = main(["scale", "score", str(tmp / "desc.npz"), str(tmp / "labelled.npz"), "--out", str(tmp / "s.npy"),
                 "--report", str(tmp / "report.json"), "--dask-workers", "1", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    report = json.loads((tmp / "report.json").read_text())
    labels = ds.labels[ia] == ds.labels[ib]
    assert report["auc"] == pytest.approx(roc_auc_score(labels, np.load(tmp / "s.npy")), abs=1e-12)
    assert report["config"]["engine"] == "dask.distributed"
    assert "AUC" in capsys.readouterr().err


@pytest.mark.parametrize("args, words", [
    (["--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "1"], "cannot reach the Dask scheduler"),
    (["--scheduler", "nowhere"], "--scheduler must look like tcp://HOST:PORT"),
    (["--dask-workers", "0"], "--dask-workers must be an int >= 1"),
    (["--method", "lda"], "must be fitted first"),
    (["--report", "r.json"], "--report needs labelled pairs"),
    (["--partition-size", "0"], "'partition_size' parameter must be an int >= 1"),
    (["--model", "no/such/model"], "no/such/model"),
])
def test_score_errors_are_one_line(files, capsys, args, words):
    _, _, _, tmp = files
    code = main(["scale", "score", str(tmp / "desc.npz"), str(tmp / "pairs.npy"), "--out", str(tmp / "s.npy"),
                 "--no-progress", *args])
    err = capsys.readouterr().err
    assert code == 1 and words in err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert not (tmp / "s.npy").exists()


def test_score_refuses_other_out_suffix(files, capsys):
    _, _, _, tmp = files
    assert main(["scale", "score", str(tmp / "desc.npz"), str(tmp / "pairs.npy"), "--out", str(tmp / "s.csv")]) == 1
    assert "--out must end in .npy" in capsys.readouterr().err


def test_extract_bad_scheduler_is_one_line(tmp_path, capsys):
    (tmp_path / "img" / "A").mkdir(parents=True)
    (tmp_path / "img" / "A" / "a.jpg").write_bytes(b"x")
    code = main(["scale", "extract", str(tmp_path / "img"), "--detector", "dlib", "--embedder", "dlib",
                 "--out", str(tmp_path / "o.npz"), "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot reach the Dask scheduler" in err and err.count("\n") == 1


def test_missing_dask_is_one_line_naming_the_extra(files):
    _, _, _, tmp = files
    script = ("import sys; sys.modules['distributed'] = None; from facemetric.cli.main import main; "
              f"sys.exit(main(['scale', 'score', {str(tmp / 'desc.npz')!r}, {str(tmp / 'pairs.npy')!r}, "
              f"'--out', {str(tmp / 's.npy')!r}]))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("error: distributed is not installed; install it with: "
                                   "pip install 'facemetric[scale]'")


def test_help_of_every_scale_command(capsys):
    for cmd in (["scale", "--help"], ["scale", "score", "--help"], ["scale", "extract", "--help"]):
        assert main(cmd) == 0
    out = capsys.readouterr().out
    assert "--scheduler" in out and "--dask-workers" in out


@pytest.mark.timeout(120)
def test_score_on_a_scheduler_and_worker_started_with_the_dask_cli(files, capsys):
    """`dask scheduler` + `dask worker` on loopback, as on a real cluster; facemetric connects with --scheduler."""
    import os
    import time
    from pathlib import Path

    ds, ia, ib, tmp = files
    dask_cli = Path(sys.executable).with_name("dask")
    info = tmp / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "error"}
    scheduler = subprocess.Popen([str(dask_cli), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(info)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        worker = subprocess.Popen([str(dask_cli), "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                   "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        code = main(["scale", "score", str(tmp / "desc.npz"), str(tmp / "pairs.npy"), "--out", str(tmp / "s.npy"),
                     "--scheduler", address, "--connect-timeout", "60", "--partition-size", "1000", "--no-progress"])
        assert code == 0, capsys.readouterr().err
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    expected = METHODS["cosine"]().fit(ds.X[:1]).score_pairs(ds.X, ia, ib)
    np.testing.assert_array_equal(np.load(tmp / "s.npy"), expected)


@pytest.mark.shared
@pytest.mark.timeout(180)
def test_extract_real_images_on_two_workers_equals_facemetric_extract(lfw_dir, models_dir, tmp_path, capsys):
    from facemetric.io import load_descriptors

    images = ["Aaron_Eckhart/Aaron_Eckhart_0001.jpg", "Abel_Pacheco/Abel_Pacheco_0001.jpg",
              "Abel_Pacheco/Abel_Pacheco_0004.jpg", "Akhmed_Zakayev/Akhmed_Zakayev_0001.jpg"]
    (tmp_path / "list.txt").write_text("\n".join(images) + "\n")
    common = [str(lfw_dir / "images"), "--list", str(tmp_path / "list.txt"),
              "--detector", f"landmarks:{lfw_dir / 'landmarks_mtcnn_5pt.txt'}",
              "--embedder", f"onnx:{models_dir / 'mobilefacenet_arcface_112.onnx'}", "--flip", "--no-progress"]
    assert main(["extract", *common, "--out", str(tmp_path / "one.npz"), "--workers", "1", "--no-cache"]) == 0
    scaled = ["scale", "extract", *common, "--out", str(tmp_path / "dask.npz"), "--dask-workers", "2",
              "--batch-size", "1", "--threads", "1"]
    assert main(scaled) == 0, capsys.readouterr().err
    one, dask = load_descriptors(tmp_path / "one.npz"), load_descriptors(tmp_path / "dask.npz")
    assert dask.ids.tolist() == one.ids.tolist() == images
    np.testing.assert_allclose(dask.X, one.X, rtol=1e-5, atol=1e-5)  # onnxruntime threads differ
    np.testing.assert_allclose(dask.X_flip, one.X_flip, rtol=1e-5, atol=1e-5)
    capsys.readouterr()
    assert main(scaled) == 0  # resumes: everything from the cache
    assert "4 from the cache" in capsys.readouterr().out
