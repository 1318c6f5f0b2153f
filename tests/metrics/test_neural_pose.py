"""neural-pose: pose-balanced batches, the plain head without yaw, explicit device choice on a CPU machine."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("pytorch_metric_learning")

from facemetric.metrics import METHODS, make_metric  # noqa: E402
from facemetric.metrics.neural.pose_batches import pose_balanced_batches  # noqa: E402

from facemetric.datasets.pose_simulation import posed_people  # noqa: E402

FAST = dict(max_epochs=3, n_threads=1, progress=False, batch_identities=8, images_per_identity=4, n_val_pairs=200)


def test_pose_balanced_batches_pair_frontal_with_turned_photos():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(40), 5)
    turned = np.zeros(labels.size, bool)
    turned[labels < 10] = np.tile([True, False, False, False, False], 10)  # 10 mixed identities
    for batch in pose_balanced_batches(labels, turned, 8, 4, 20, rng):
        ids = labels[batch]
        assert np.unique(ids).size == 8 and np.unique(batch).size == batch.size
        mixed = [k for k in np.unique(ids) if k < 10]
        assert len(mixed) == 4  # half the batch
        for k in mixed:  # each brings its turned photo and frontal ones
            assert turned[batch[ids == k]].any() and (~turned[batch[ids == k]]).any()
    only_plain = pose_balanced_batches(labels, np.zeros(labels.size, bool), 8, 4, 3, rng)
    assert all(np.unique(labels[b]).size == 8 for b in only_plain)


def test_without_yaw_it_is_the_linear_head():
    ds = posed_people(40, 5, seed=0)
    a = make_metric("neural-pose", init="cosine", device="cpu", **FAST).fit(ds.X, ds.labels)
    b = make_metric("neural-linear", device="cpu", max_epochs=3, patience=3, batch_identities=8,
                    images_per_identity=4, n_val_pairs=200, n_threads=1, progress=False).fit(ds.X, ds.labels)
    for name, value in a.get_arrays().items():
        np.testing.assert_array_equal(value, b.get_arrays()[name])
    with_pose = make_metric("neural-pose", init="cosine", device="cpu", **FAST).fit_descriptors(ds)
    assert not np.array_equal(with_pose.weight_, a.weight_)  # other batches, other weights
    assert not METHODS["neural-pose"].uses_pose  # the yaw shapes the batches only; scoring is cosine


def test_untrained_head_started_at_wccn_is_wccn():
    from facemetric.metrics.sampling import split_identities

    ds = posed_people(60, 5, seed=2)
    head = make_metric("neural-pose", device="cpu", lr=1e-12, **{**FAST, "max_epochs": 1}).fit_descriptors(ds)
    assert head.best_epoch_ == 0
    train_rows, _ = split_identities(ds.labels, head.val_fraction, head.seed)
    wccn = make_metric("wccn").fit(ds.X[train_rows], ds.labels[train_rows])
    ia, ib = np.arange(0, 100), np.arange(100, 200)
    np.testing.assert_allclose(head.score_pairs(ds.X, ia, ib), wccn.score_pairs(ds.X, ia, ib), atol=1e-5)


def test_device_auto_is_the_cpu_here_and_cuda_is_refused_clearly():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present; benchmarks/gpu_check_neural.py checks it")
    ds = posed_people(30, 4, seed=1)
    assert make_metric("neural-pose", device="auto", **FAST).fit_descriptors(ds).device_ == "cpu"
    with pytest.raises(Exception, match="torch sees no CUDA device"):
        make_metric("neural-pose", device="cuda:0", **FAST).fit_descriptors(ds)


def test_gpu_check_script_says_there_is_no_gpu(capsys):
    import importlib.util
    from pathlib import Path

    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check_neural.py"
    spec = importlib.util.spec_from_file_location("gpu_check_neural", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([]) == 1
    assert "no CUDA device" in capsys.readouterr().out
