"""Neural heads: determinism, early stopping, the numpy forward pass, persistence, and a problem cosine gets wrong."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

pytest.importorskip("torch")
pytest.importorskip("pytorch_metric_learning")

from facemetric.errors import ConfigError, InputError  # noqa: E402
from facemetric.metrics import METHODS, make_metric  # noqa: E402
from facemetric.metrics.base import l2_normalize  # noqa: E402
from facemetric.metrics.neural import LOSSES, NeuralLinear, NeuralMLP  # noqa: E402
from facemetric.metrics.persist import load_model, save_model  # noqa: E402
from facemetric.metrics.sampling import sample_pairs  # noqa: E402

FAST = dict(max_epochs=3, n_threads=1, device="cpu", progress=False, batch_identities=8, images_per_identity=3,
            n_val_pairs=200)


def nuisance_data(n_ids: int, per_id: int, seed: int, signal_dim: int = 4, nuisance_dim: int = 12):
    """Identity in a few dimensions, a much larger per-image nuisance in the others: cosine is poor."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_ids, signal_dim))
    y = np.repeat(np.arange(n_ids), per_id)
    signal = centres[y] + 0.3 * rng.normal(size=(y.size, signal_dim))
    nuisance = 3.0 * rng.normal(size=(y.size, nuisance_dim))
    X = np.hstack([signal, nuisance]).astype(np.float32)
    return X, np.array([f"id{i}" for i in y])


def test_registered_in_methods():
    assert METHODS["neural-linear"] is NeuralLinear
    assert METHODS["neural-mlp"] is NeuralMLP
    assert NeuralMLP().hidden_dim > 0 and NeuralLinear().hidden_dim == 0


def test_same_seed_same_weights_other_seed_other_weights():
    X, y = nuisance_data(30, 4, seed=0)
    a = NeuralMLP(seed=3, hidden_dim=16, **FAST).fit(X, y)
    b = NeuralMLP(seed=3, hidden_dim=16, **FAST).fit(X, y)
    c = NeuralMLP(seed=4, hidden_dim=16, **FAST).fit(X, y)
    for name, value in a.get_arrays().items():
        np.testing.assert_array_equal(value, b.get_arrays()[name])
    assert not np.array_equal(a.weight_, c.weight_)


def test_numpy_forward_matches_torch_module():
    import torch

    from facemetric.metrics.neural.training import build_module, module_arrays

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 10)).astype(np.float32)
    torch.manual_seed(0)
    module = build_module(10, 6, 7, 0.0, rng.normal(size=10).astype(np.float32) * 0.1)
    with torch.no_grad():  # give the zero-initialised branch non-zero weights
        module.out.weight.normal_()
        module.out.bias.normal_()
    head = NeuralMLP(hidden_dim=7, out_dim=6).set_arrays(module_arrays(module))
    module.eval()
    with torch.no_grad():
        expected = module(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(head.transform(X), expected, rtol=1e-5, atol=1e-5)


def test_untrained_head_is_centred_cosine_and_early_stopping_falls_back_to_it():
    # tight, well separated identities: the untrained head already has validation AUC 1.0,
    # so no epoch can beat epoch 0 and training stops after `patience` epochs
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(30), 4)
    X = (rng.normal(size=(30, 16))[y] * 5 + 0.01 * rng.normal(size=(y.size, 16))).astype(np.float32)
    y = y.astype(str)
    head = NeuralLinear(**{**FAST, "max_epochs": 20}, patience=2).fit(X, y)
    assert head.history_[0] == 1.0
    assert head.stopped_early_
    assert head.best_epoch_ == 0
    assert len(head.history_) == 1 + 2  # epoch 0, then `patience` epochs without improvement
    Xa, Xb = X[:10], X[10:20]
    mean = l2_normalize(X).mean(axis=0)  # close to, not exactly, the training-split mean
    head_mean = head.mean_
    assert np.abs(head_mean - mean).max() < 0.5
    ca, cb = l2_normalize(l2_normalize(Xa) - head_mean), l2_normalize(l2_normalize(Xb) - head_mean)
    np.testing.assert_allclose(head.pair_score(Xa, Xb), np.sum(ca * cb, axis=1), rtol=1e-4, atol=1e-5)


def test_head_beats_cosine_when_a_nuisance_subspace_dominates():
    X, y = nuisance_data(80, 6, seed=2)
    Xt, yt = nuisance_data(40, 6, seed=3)  # different people
    yt = np.char.add("test", yt)
    ia, ib, same = sample_pairs(yt, 2000, seed=0)
    cosine_auc = roc_auc_score(same, make_metric("cosine").fit(X, y).score_pairs(Xt, ia, ib))
    for loss in ("multi-similarity", "arcface"):
        head = NeuralLinear(loss=loss, max_epochs=25, patience=5, n_threads=1, device="cpu", progress=False,
                            batch_identities=16, images_per_identity=4, n_val_pairs=1000, lr=1e-2).fit(X, y)
        auc = roc_auc_score(same, head.score_pairs(Xt, ia, ib))
        assert head.best_epoch_ > 0, loss
        assert auc > cosine_auc + 0.05, (loss, auc, cosine_auc)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_trains(loss):
    X, y = nuisance_data(20, 4, seed=4)
    head = NeuralLinear(loss=loss, **{**FAST, "max_epochs": 1}).fit(X, y)
    assert head.weight_.shape == (16, 16)
    assert np.isfinite(head.pair_score(X[:5], X[5:10])).all()


def test_save_and_load_give_the_same_scores(tmp_path):
    X, y = nuisance_data(20, 4, seed=5)
    head = NeuralMLP(hidden_dim=8, out_dim=5, **FAST).fit(X, y)
    save_model(head, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, NeuralMLP) and loaded.out_dim == 5
    np.testing.assert_allclose(loaded.pair_score(X[:7], X[7:14]), head.pair_score(X[:7], X[7:14]))
    assert loaded.transform(X).shape == (X.shape[0], 5)


@pytest.mark.parametrize(
    ("params", "error", "needle"),
    [
        ({"loss": "hinge"}, ConfigError, "'loss'"),
        ({"loss": "arcface", "miner": "triplet"}, ConfigError, "'miner'"),
        ({"miner": "hardest"}, ConfigError, "'miner'"),
        ({"max_epochs": 0}, ConfigError, "'max_epochs'"),
        ({"lr": -1.0}, ConfigError, "'lr'"),
        ({"device": "tpu"}, ConfigError, "'device'"),
        ({"n_threads": 0}, ConfigError, "'n_threads'"),
        ({"loss": "cosface", "loss_params": {"bogus": 1}}, ConfigError, "loss_params"),
    ],
)
def test_bad_parameters_say_which(params, error, needle):
    X, y = nuisance_data(20, 4, seed=6)
    with pytest.raises(error, match=needle):
        NeuralLinear(**{**FAST, **params}).fit(X, y)


def test_bad_training_data():
    X, y = nuisance_data(20, 4, seed=7)
    with pytest.raises(InputError, match="2 identities"):
        NeuralLinear(**FAST).fit(X, np.full(y.size, "same"))
    with pytest.raises(InputError, match="2\\+ images"):
        NeuralLinear(**FAST).fit(X[:3], ["a", "b", "c"])
    head = NeuralLinear(**FAST).fit(X, y)
    with pytest.raises(InputError, match="dimension"):
        head.pair_score(X[:2, :5], X[:2, :5])


def test_cuda_requested_without_cuda():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    X, y = nuisance_data(20, 4, seed=8)
    with pytest.raises(ConfigError, match="CUDA"):
        NeuralLinear(**{**FAST, "device": "cuda"}).fit(X, y)


def test_fit_leaves_the_callers_torch_rng_alone():
    import torch

    X, y = nuisance_data(20, 4, seed=9)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    NeuralLinear(**{**FAST, "max_epochs": 1}).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


def test_missing_torch_names_the_extra(monkeypatch):
    import sys

    from facemetric.errors import MissingDependencyError

    X, y = nuisance_data(20, 4, seed=10)
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(MissingDependencyError, match=r"facemetric\[torch\]"):
        NeuralLinear(**FAST).fit(X, y)
