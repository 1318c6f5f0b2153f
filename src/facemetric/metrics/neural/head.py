"""A neural projection head trained on descriptors; scores are cosine similarities in the learned space.

The head maps ``x`` to ``W (n(x) - m) + b`` (``n`` = L2 normalisation, ``m`` = training mean),
plus, when ``hidden_dim > 0``, a residual ``V relu(H (n(x) - m) + c) + d`` whose output layer
starts at zero. ``W`` starts orthogonal, so the untrained head is centred cosine, and early
stopping on the validation identities keeps the best epoch (possibly that start).
Training uses torch and pytorch-metric-learning; the fitted head scores with numpy alone, and
its weights are plain arrays (``weight_``, ``bias_``...) that persist without pickle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.constraints import Interval, Options, Satisfies
from facemetric.errors import ConfigError, InputError, require
from facemetric.metrics.base import PairMetric, l2_normalize, rowwise_dot
from facemetric.metrics.neural.losses import LOSSES, MINERS, is_proxy_loss
from facemetric.metrics.sampling import sample_pairs, split_identities

ARRAY_NAMES = ("mean_", "weight_", "bias_", "hidden_weight_", "hidden_bias_", "out_weight_", "out_bias_")


class NeuralHead(PairMetric):
    """Linear (``hidden_dim=0``) or residual-MLP head trained with a pml loss; see the module docstring.

    ``loss``: one of ``LOSSES`` (arcface, cosface, subcenter-arcface, triplet, multi-similarity,
    contrastive), ``loss_params`` overrides its defaults; ``miner``: "auto" (the loss's usual
    miner), "none", "multi-similarity" or "triplet". ``val_fraction`` of the identities with 2+
    images are held out for early stopping (``patience`` epochs without a better validation AUC).
    ``device``: "auto" (CUDA when present), "cpu" or "cuda[:i]"; ``n_threads`` sets torch's CPU
    threads during fit. Every random choice follows ``seed``.
    """

    family = "neural"
    is_projection = True
    dot_product_scores = True
    _parameter_constraints = {
        "loss": [Options(sorted(LOSSES))],
        "miner": [Options(("auto", *MINERS))],
        "hidden_dim": [Interval("int", 0)],
        "max_epochs": [Interval("int", 1)],
        "patience": [Interval("int", 1)],
        "n_val_pairs": [Interval("int", 10)],
        "batch_identities": [Interval("int", 2)],
        "images_per_identity": [Interval("int", 2)],
        "out_dim": [None, Interval("int", 1)],
        "n_threads": [None, Interval("int", 1)],
        "lr": [Interval("float", 0, closed="neither")],
        "weight_decay": [Interval("float", 0)],
        "dropout": [Interval("float", 0, 1, closed="left")],
        "device": [Satisfies(lambda d: d in ("auto", "cpu") or str(d).startswith("cuda"), "'auto', 'cpu' or 'cuda[:i]'")],
    }

    def __init__(self, *, hidden_dim: int = 0, out_dim: int | None = None, loss: str = "multi-similarity",
                 loss_params: dict | None = None, miner: str = "auto", lr: float = 1e-4,
                 weight_decay: float = 0.0, max_epochs: int = 20, patience: int = 3,
                 val_fraction: float = 0.15, n_val_pairs: int = 6000, batch_identities: int = 128,
                 images_per_identity: int = 4, dropout: float = 0.0, seed: int = 0, device: str = "auto",
                 n_threads: int | None = None, progress: bool | None = None) -> None:
        self.hidden_dim = hidden_dim
        self.out_dim = out_dim
        self.loss = loss
        self.loss_params = loss_params
        self.miner = miner
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.n_val_pairs = n_val_pairs
        self.batch_identities = batch_identities
        self.images_per_identity = images_per_identity
        self.dropout = dropout
        self.seed = seed
        self.device = device
        self.n_threads = n_threads
        self.progress = progress

    # --- fitting -----------------------------------------------------------------
    def _check_params(self) -> None:
        """What the declared constraints cannot say: a proxy loss brings its own miner."""
        if is_proxy_loss(self.loss) and self.miner not in ("auto", "none"):
            raise ConfigError(f"The 'miner' parameter of {type(self).__name__} must be 'auto' or 'none' with the "
                              f"proxy loss {self.loss!r}. Got {self.miner!r} instead.")

    def _resolve_device(self, torch: Any) -> str:
        device = str(self.device)
        if device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"The 'device' parameter is {device!r} but torch sees no CUDA device; use 'cpu' or 'auto'")
        return device

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        self._check_params()
        y = np.asarray(y).astype(str)
        if np.unique(y).size < 2:
            raise InputError("training descriptors have a single identity; a neural head needs several")
        torch = require("torch", "torch")
        require("pytorch_metric_learning", "torch")
        from facemetric.progress import progress_enabled
        from facemetric.metrics.neural.training import train_head

        train_rows, val_rows = split_identities(y, self.val_fraction, self.seed)
        _, counts = np.unique(y[train_rows], return_counts=True)
        if (counts >= 2).sum() < 2:
            raise InputError("fewer than 2 training identities with 2+ images are left after the validation "
                             "split; give more identities or lower val_fraction")
        va, vb, vsame = sample_pairs(y[val_rows], self.n_val_pairs, self.seed + 1)
        device = self._resolve_device(torch)
        old_threads = torch.get_num_threads()
        if self.n_threads is not None:
            torch.set_num_threads(int(self.n_threads))
        try:
            result = train_head(
                X, y, val_rows, (va, vb, vsame), hidden_dim=int(self.hidden_dim),
                out_dim=int(self.out_dim or X.shape[1]), loss=self.loss, loss_params=self.loss_params,
                miner=self.miner, lr=float(self.lr), weight_decay=float(self.weight_decay),
                max_epochs=int(self.max_epochs), patience=int(self.patience),
                batch_identities=int(self.batch_identities), images_per_identity=int(self.images_per_identity),
                dropout=float(self.dropout), seed=int(self.seed), device=device,
                progress=progress_enabled(self.progress), turned=self._turned_rows(X.shape[0]),
                init_weight=self._init_weight(X[train_rows], y[train_rows]),
            )
        finally:
            torch.set_num_threads(old_threads)
        for name, value in result.arrays.items():
            setattr(self, name, value)
        self.history_ = np.asarray(result.history, dtype=np.float64)
        self.best_epoch_ = int(result.best_epoch)
        self.stopped_early_ = bool(result.stopped_early)
        self.device_ = device

    def _init_weight(self, X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        """Starting weights of the linear layer (None: orthogonal, i.e. centred cosine)."""
        return None

    def _turned_rows(self, n: int) -> np.ndarray | None:
        """Which training rows are turned photos, for pose-balanced batches (None: plain P x K batches)."""
        return None

    # --- arrays for persistence ----------------------------------------------------
    def get_arrays(self) -> dict[str, np.ndarray]:
        """The learned arrays (weights and validation history), for saving without pickle."""
        self._check_fitted()
        names = [n for n in ARRAY_NAMES if hasattr(self, n)] + ["history_"]
        return {n: np.asarray(getattr(self, n)) for n in names}

    def set_arrays(self, arrays: dict[str, np.ndarray]) -> NeuralHead:
        """Restore a head saved with :meth:`get_arrays` (no torch needed)."""
        for needed in ("mean_", "weight_", "bias_"):
            if needed not in arrays:
                raise InputError(f"neural head arrays lack {needed!r}; the model file is incomplete")
        for name in ARRAY_NAMES:
            if name in arrays:
                setattr(self, name, np.asarray(arrays[name], dtype=np.float32))
        if "history_" in arrays:
            self.history_ = np.asarray(arrays["history_"], dtype=np.float64)
        self.n_features_in_ = int(self.weight_.shape[1])
        return self

    # --- scoring -------------------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """Project descriptors into the learned space (before the final L2 normalisation)."""
        X = self._check_dim(X, "descriptors")
        return self.forward_numpy(X)

    def forward_numpy(self, X: np.ndarray) -> np.ndarray:
        Xc = l2_normalize(np.asarray(X, dtype=np.float32)) - self.mean_
        Z = Xc @ self.weight_.T + self.bias_
        if hasattr(self, "hidden_weight_"):
            H = np.maximum(Xc @ self.hidden_weight_.T + self.hidden_bias_, 0.0)
            Z = Z + H @ self.out_weight_.T + self.out_bias_
        return Z.astype(np.float32)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return l2_normalize(self.forward_numpy(X))

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        return rowwise_dot(Za, Zb)
