"""Loss and miner choice by name. The losses and miners are pytorch-metric-learning's own.

Proxy losses (ArcFace, CosFace, sub-center ArcFace) learn one weight vector per training
identity; pair losses (triplet, multi-similarity, contrastive) work on mined pairs of a batch.
"""

from __future__ import annotations

from typing import Any

from facemetric.errors import ConfigError, require

# name -> (pml class name, default keyword arguments, default miner, is a proxy loss)
LOSSES: dict[str, tuple[str, dict[str, Any], str, bool]] = {
    "arcface": ("ArcFaceLoss", {"margin": 28.6, "scale": 64}, "none", True),
    "cosface": ("CosFaceLoss", {"margin": 0.35, "scale": 64}, "none", True),
    "subcenter-arcface": ("SubCenterArcFaceLoss", {"margin": 28.6, "scale": 64, "sub_centers": 3}, "none", True),
    "triplet": ("TripletMarginLoss", {"margin": 0.1}, "triplet", False),
    "multi-similarity": ("MultiSimilarityLoss", {"alpha": 2.0, "beta": 50.0, "base": 0.5}, "multi-similarity", False),
    "contrastive": ("ContrastiveLoss", {"pos_margin": 0.0, "neg_margin": 1.0}, "multi-similarity", False),
}

# name -> (pml class name, default keyword arguments)
MINERS: dict[str, tuple[str, dict[str, Any]] | None] = {
    "none": None,
    "multi-similarity": ("MultiSimilarityMiner", {"epsilon": 0.1}),
    "triplet": ("TripletMarginMiner", {"margin": 0.1, "type_of_triplets": "semihard"}),
}


def check_loss_name(loss: str) -> None:
    if loss not in LOSSES:
        raise ConfigError(f"The 'loss' parameter must be one of {sorted(LOSSES)}. Got {loss!r} instead.")


def check_miner_name(miner: str) -> None:
    if miner != "auto" and miner not in MINERS:
        raise ConfigError(
            f"The 'miner' parameter must be 'auto' or one of {sorted(MINERS)}. Got {miner!r} instead."
        )


def is_proxy_loss(loss: str) -> bool:
    check_loss_name(loss)
    return LOSSES[loss][3]


def make_loss(loss: str, num_classes: int, embedding_size: int, params: dict[str, Any] | None):
    """Build the named pml loss; ``params`` override its defaults."""
    check_loss_name(loss)
    losses = require("pytorch_metric_learning.losses", "torch")
    cls_name, defaults, _, proxy = LOSSES[loss]
    kwargs = {**defaults, **(params or {})}
    if proxy:
        kwargs = {"num_classes": num_classes, "embedding_size": embedding_size, **kwargs}
    try:
        return getattr(losses, cls_name)(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"The 'loss_params' of loss {loss!r} are not accepted by {cls_name}: {exc}") from exc


def make_miner(miner: str, loss: str):
    """Build the named pml miner (``"auto"``: the usual partner of ``loss``), or None."""
    check_miner_name(miner)
    check_loss_name(loss)
    name = LOSSES[loss][2] if miner == "auto" else miner
    spec = MINERS[name]
    if spec is None:
        return None
    miners = require("pytorch_metric_learning.miners", "torch")
    cls_name, kwargs = spec
    return getattr(miners, cls_name)(**kwargs)
