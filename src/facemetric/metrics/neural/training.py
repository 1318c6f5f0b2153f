"""The training loop of a neural head: seeded batches, a pml loss, early stopping on validation AUC.

The validation identities are split off the training identities (identity-disjoint); the
head is scored on verification pairs drawn among them after every epoch, and the best epoch
wins. Epoch 0 is the untrained head, which starts as centred cosine, so a head that never
improves falls back to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import roc_auc_score

from facemetric.errors import require
from facemetric.metrics.neural.losses import make_loss, make_miner
from facemetric.metrics.neural.pose_batches import pose_balanced_batches


@dataclass
class TrainResult:
    arrays: dict[str, np.ndarray]
    history: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False


def pk_batches(labels: np.ndarray, n_identities: int, per_identity: int, n_batches: int,
               rng: np.random.Generator) -> list[np.ndarray]:
    """``n_batches`` batches of ``n_identities`` identities x up to ``per_identity`` images (2+ each)."""
    names, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    multi = np.flatnonzero(counts >= 2)
    take = min(n_identities, multi.size)
    batches = []
    for _ in range(n_batches):
        rows = []
        for ident in rng.choice(multi, size=take, replace=False):
            k = min(per_identity, counts[ident])
            rows.append(order[starts[ident] + rng.choice(counts[ident], size=k, replace=False)])
        batches.append(np.concatenate(rows))
    return batches


def build_module(in_dim: int, out_dim: int, hidden_dim: int, dropout: float, mean: np.ndarray,
                 init_weight: np.ndarray | None = None):
    """The torch head: ``normalize(x) - mean`` -> linear (orthogonal init, or ``init_weight`` (out_dim, in_dim))
    [+ zero-init residual MLP]."""
    torch = require("torch", "torch")
    nn = torch.nn

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
            self.linear = nn.Linear(in_dim, out_dim)
            if init_weight is None:
                nn.init.orthogonal_(self.linear.weight)
            else:
                with torch.no_grad():
                    self.linear.weight.copy_(torch.as_tensor(init_weight, dtype=torch.float32))
            nn.init.zeros_(self.linear.bias)
            self.hidden = nn.Linear(in_dim, hidden_dim) if hidden_dim else None
            self.out = nn.Linear(hidden_dim, out_dim) if hidden_dim else None
            self.drop = nn.Dropout(dropout)
            if self.out is not None:
                nn.init.zeros_(self.out.weight)
                nn.init.zeros_(self.out.bias)

        def forward(self, x):
            x = nn.functional.normalize(x, dim=1) - self.mean
            z = self.linear(x)
            if self.hidden is not None:
                z = z + self.out(self.drop(nn.functional.relu(self.hidden(x))))
            return z

    return Head()


def module_arrays(module) -> dict[str, np.ndarray]:
    """The head's weights as float32 numpy arrays (names as in :meth:`NeuralHead.forward_numpy`)."""
    arrays = {
        "mean_": module.mean,
        "weight_": module.linear.weight,
        "bias_": module.linear.bias,
    }
    if module.hidden is not None:
        arrays.update(
            hidden_weight_=module.hidden.weight,
            hidden_bias_=module.hidden.bias,
            out_weight_=module.out.weight,
            out_bias_=module.out.bias,
        )
    return {k: v.detach().cpu().numpy().astype(np.float32).copy() for k, v in arrays.items()}


def init_proxies(loss_fn, module, X, labels: np.ndarray, n_classes: int) -> None:
    """Start the proxies of a proxy loss (ArcFace...) at their class means in the untrained head's space.

    Random proxies make the first epochs tear a good starting embedding apart; class means make
    the loss start small. Sub-centres of one class start at its mean plus the original small noise.
    """
    torch = require("torch", "torch")
    W = getattr(loss_fn, "W", None)
    if W is None or W.ndim != 2 or W.shape[1] % n_classes:
        return
    with torch.no_grad():
        Z = torch.nn.functional.normalize(module(X), dim=1)
        sums = torch.zeros(n_classes, Z.shape[1], device=Z.device).index_add_(0, torch.as_tensor(labels, device=Z.device), Z)
        means = torch.nn.functional.normalize(sums, dim=1).T  # (dim, n_classes)
        per_class = W.shape[1] // n_classes
        noise = torch.nn.functional.normalize(W, dim=0) * 0.05
        W.copy_(means.repeat_interleave(per_class, dim=1) + noise)


def train_head(X: np.ndarray, y: np.ndarray, val_rows: np.ndarray, val_pairs: tuple, *, hidden_dim: int,
               out_dim: int, loss: str, loss_params: dict | None, miner: str, lr: float, weight_decay: float,
               max_epochs: int, patience: int, batch_identities: int, images_per_identity: int,
               dropout: float, seed: int, device: str, progress: bool,
               turned: np.ndarray | None = None, init_weight: np.ndarray | None = None) -> TrainResult:
    """Train on the rows of ``X`` not in ``val_rows``; early-stop on AUC of ``val_pairs`` (ia, ib, same).

    ``turned`` (bool per row of ``X``) switches to pose-balanced batches
    (:func:`facemetric.metrics.neural.pose_batches.pose_balanced_batches`); ``init_weight``
    starts the linear layer there instead of at an orthogonal matrix.
    """
    torch = require("torch", "torch")
    from facemetric.progress import progress_bar

    train_mask = np.ones(X.shape[0], bool)
    train_mask[val_rows] = False
    Xn = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    mean = Xn[train_mask].mean(axis=0)
    # batches hold identities with 2+ images (P identities x K images), for every loss
    names, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    train_mask &= counts[inverse] >= 2
    Xt = X[train_mask]
    _, yt_int = np.unique(y[train_mask], return_inverse=True)
    n_classes = int(yt_int.max()) + 1

    rng = np.random.default_rng(seed)
    batch_size = batch_identities * images_per_identity
    n_batches = max(1, int(np.ceil(Xt.shape[0] / batch_size)))

    cuda_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        module = build_module(X.shape[1], out_dim, hidden_dim, dropout, mean, init_weight).to(device)
        loss_fn = make_loss(loss, n_classes, out_dim, loss_params).to(device)
        miner_fn = make_miner(miner, loss)
        init_proxies(loss_fn, module, torch.as_tensor(Xt, device=device), yt_int, n_classes)
        params = [{"params": module.parameters(), "lr": lr}]
        loss_parameters = list(loss_fn.parameters())
        if loss_parameters:
            params.append({"params": loss_parameters, "lr": lr * 10})
        optimizer = torch.optim.Adam(params, weight_decay=weight_decay)

        X_dev = torch.as_tensor(Xt, device=device)
        y_dev = torch.as_tensor(yt_int, device=device)
        Xv = torch.as_tensor(X[val_rows], device=device)
        va, vb, vsame = val_pairs

        def val_auc() -> float:
            module.eval()
            with torch.no_grad():
                Z = torch.nn.functional.normalize(module(Xv), dim=1).cpu().numpy()
            module.train()
            return float(roc_auc_score(vsame, np.einsum("ij,ij->i", Z[va], Z[vb])))

        history = [val_auc()]
        best, best_epoch, best_arrays, waited = history[0], 0, module_arrays(module), 0
        stopped_early = False
        with progress_bar(progress) as bar:
            task = bar.add_task(f"training {loss} head", total=max_epochs)
            for epoch in range(1, max_epochs + 1):
                if turned is None:
                    epoch_batches = pk_batches(yt_int, batch_identities, images_per_identity, n_batches, rng)
                else:
                    epoch_batches = pose_balanced_batches(yt_int, turned[train_mask], batch_identities,
                                                          images_per_identity, n_batches, rng)
                for rows in epoch_batches:
                    idx = torch.as_tensor(rows, device=device)
                    emb = module(X_dev[idx])
                    labels = y_dev[idx]
                    tuples = miner_fn(emb, labels) if miner_fn is not None else None
                    value = loss_fn(emb, labels, tuples) if tuples is not None else loss_fn(emb, labels)
                    optimizer.zero_grad()
                    value.backward()
                    optimizer.step()
                auc = val_auc()
                history.append(auc)
                bar.update(task, advance=1, description=f"training {loss} head (val AUC {auc:.4f})")
                if auc > best:
                    best, best_epoch, best_arrays, waited = auc, epoch, module_arrays(module), 0
                else:
                    waited += 1
                    if waited >= patience:
                        stopped_early = True
                        break
    return TrainResult(best_arrays, history, best_epoch, stopped_early)
