"""``neural-pose``: a linear head that starts at WCCN and trains on pose-balanced batches.

* **Start**: with ``init="wccn"`` (default) the linear layer starts at the WCCN projection fitted
  on the training identities (rescaled to unit average row norm; cosine is scale-free), so the
  untrained head is WCCN, and early stopping on the validation identities keeps the best epoch,
  possibly that start. ``init="cosine"`` starts at an orthogonal matrix (centred cosine), as
  ``neural-linear`` does.
* **Batches**: the training photos with ``|yaw| >= turned_yaw`` count as turned. Half of every
  P x K batch is people with frontal and turned photos (see :mod:`.pose_batches`), so the pair
  loss's miner sees cross-pose positives. Without yaw the batches are plain P x K ones.
* **Speed**: 128 identities x 4 photos per batch, at most 20 epochs, patience 3: a few hundred
  steps for an LFW-size set.

The fitted head scores like ``neural-linear`` (cosine in the learned space); it needs the yaw
only while fitting.
"""

from __future__ import annotations

import warnings

import numpy as np

from facemetric.constraints import Interval, Options
from facemetric.errors import ConfigError
from facemetric.metrics.base import SingletonIdentityWarning
from facemetric.metrics.neural.head import NeuralHead
from facemetric.metrics.pose_aware import PoseAwareMixin
from facemetric.metrics.wccn import WCCN


class NeuralPose(PoseAwareMixin, NeuralHead):
    """:class:`NeuralHead` (linear by default) started at ``init`` with pose-balanced batches; see the module."""

    uses_pose = False  # the yaw matters only for training (fit_descriptors passes it); scores are cosine
    _parameter_constraints = {
        **NeuralHead._parameter_constraints,
        "init": [Options(("wccn", "cosine"))],
        "turned_yaw": [Interval("float", 0, 90)],
    }

    def __init__(self, *, init: str = "wccn", turned_yaw: float = 20.0, hidden_dim: int = 0, out_dim: int | None = None,
                 loss: str = "multi-similarity", loss_params: dict | None = None, miner: str = "auto",
                 lr: float = 1e-4, weight_decay: float = 0.0, max_epochs: int = 20, patience: int = 3,
                 val_fraction: float = 0.15, n_val_pairs: int = 6000, batch_identities: int = 128,
                 images_per_identity: int = 4, dropout: float = 0.0, seed: int = 0, device: str = "auto",
                 n_threads: int | None = None, progress: bool | None = None) -> None:
        super().__init__(
            hidden_dim=hidden_dim, out_dim=out_dim, loss=loss, loss_params=loss_params, miner=miner, lr=lr,
            weight_decay=weight_decay, max_epochs=max_epochs, patience=patience, val_fraction=val_fraction,
            n_val_pairs=n_val_pairs, batch_identities=batch_identities, images_per_identity=images_per_identity,
            dropout=dropout, seed=seed, device=device, n_threads=n_threads, progress=progress,
        )
        self.init = init
        self.turned_yaw = turned_yaw

    def _init_weight(self, X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        if self.init == "cosine":
            return None
        if self.out_dim not in (None, X.shape[1]):
            raise ConfigError(f"The 'out_dim' parameter of NeuralPose must be None or {X.shape[1]} (the descriptor "
                              f"dimension) with init='wccn'. Got {self.out_dim!r} instead.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SingletonIdentityWarning)  # WCCN drops them, as always
            W = WCCN().fit(X, y).components_.astype(np.float64)
        return (W / np.sqrt((W * W).sum(axis=1).mean())).astype(np.float32)

    def _turned_rows(self, n: int) -> np.ndarray | None:
        yaw = self._fit_yaw
        if yaw is None or not np.isfinite(yaw).any():
            return None
        return np.abs(np.nan_to_num(yaw, nan=0.0)) >= self.turned_yaw
