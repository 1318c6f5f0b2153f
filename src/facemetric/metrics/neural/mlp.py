"""``neural-mlp``: a linear head plus a residual MLP branch (see :class:`NeuralHead`)."""

from __future__ import annotations

from facemetric.metrics.neural.head import NeuralHead


class NeuralMLP(NeuralHead):
    """:class:`NeuralHead` with a 512-unit residual ReLU branch (zero-initialised output layer)."""

    def __init__(self, *, hidden_dim: int = 512, out_dim: int | None = None, loss: str = "multi-similarity",
                 loss_params: dict | None = None, miner: str = "auto", lr: float = 1e-4,
                 weight_decay: float = 0.0, max_epochs: int = 20, patience: int = 3,
                 val_fraction: float = 0.15, n_val_pairs: int = 6000, batch_identities: int = 128,
                 images_per_identity: int = 4, dropout: float = 0.0, seed: int = 0, device: str = "auto",
                 n_threads: int | None = None, progress: bool | None = None) -> None:
        super().__init__(
            hidden_dim=hidden_dim, out_dim=out_dim, loss=loss, loss_params=loss_params, miner=miner, lr=lr,
            weight_decay=weight_decay, max_epochs=max_epochs, patience=patience, val_fraction=val_fraction,
            n_val_pairs=n_val_pairs, batch_identities=batch_identities, images_per_identity=images_per_identity,
            dropout=dropout, seed=seed, device=device, n_threads=n_threads, progress=progress,
        )
