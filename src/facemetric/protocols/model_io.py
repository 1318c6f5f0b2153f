"""Fit a metric on a training descriptor set and save it; score a protocol with a saved model.

The library behind ``facemetric fit`` and ``facemetric score``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from facemetric.errors import ConfigError
from facemetric.io.atomic import atomic_open
from facemetric.protocols.identities import with_identities
from facemetric.protocols.kfold import score_rows
from facemetric.protocols.methods import MethodSpec
from facemetric.types import FLIP_MODES, DescriptorSet, PairProtocol

if TYPE_CHECKING:
    from facemetric.metrics.base import PairMetric

FLIP_CHOICES = ("auto",) + FLIP_MODES


def resolve_flip(flip: str, descriptors: DescriptorSet) -> str:
    """``auto`` -> "sum" when the set has flipped descriptors, else "none"."""
    if flip not in FLIP_CHOICES:
        raise ConfigError(f"The '--flip' option must be one of {', '.join(FLIP_CHOICES)}. Got {flip!r} instead.")
    if flip == "auto":
        return "sum" if descriptors.X_flip is not None else "none"
    return flip


def fit_metric(train: DescriptorSet, spec: MethodSpec, flip: str = "auto") -> PairMetric:
    """Fuse the flips, take identities from labels or folders, fit ``spec`` on ``train``.

    The fitted metric records ``training_identities_`` (saved with the model).
    """
    fused = with_identities(train.fused(resolve_flip(flip, train)), "training descriptors")
    metric = spec.factory()()
    metric.fit_descriptors(fused)
    # saved with the model, so that `facemetric evaluate --model` can flag test identities seen in training
    metric.training_identities_ = np.unique(fused.labels)
    return metric


def model_flip(metric: Any) -> str:
    """The flip fusion a model was fitted with, or "auto" when it did not record one."""
    prov = getattr(metric, "provenance_", None) or {}
    flip = prov.get("flip_fusion")
    return flip if flip in FLIP_MODES else "auto"


def score_with_model(metric: PairMetric, descriptors: DescriptorSet, protocol: PairProtocol,
                     flip: str | None = None) -> np.ndarray:
    """Scores of every pair of ``protocol``; flips fused as at training time unless ``flip`` is given.

    The metric sees only the descriptors of the protocol's images (which matters for
    transductive methods).
    """
    flip = model_flip(metric) if flip is None else flip
    fused = descriptors.fused(resolve_flip(flip, descriptors))
    metric.check_descriptors(fused)
    ia, ib = protocol.resolve(fused)
    return score_rows(metric, fused.X, ia, ib)


def write_scores_csv(path: str | Path, pair_ids: np.ndarray, scores: np.ndarray) -> Path:
    """``pair_id,score`` rows, written atomically."""
    path = Path(path)
    with atomic_open(path, "w") as fh:
        fh.write("pair_id,score\n")
        for pid, s in zip(pair_ids.tolist(), scores.tolist()):
            fh.write(f"{pid},{s:.9g}\n")
    return path
