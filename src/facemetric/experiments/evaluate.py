"""Evaluate one method on one protocol: the library behind ``facemetric evaluate``.

Fuse the flipped descriptors, pick or load the metric, fit a learned metric only on the
identities outside the protocol (:func:`training_split`), score the pairs with the driver's
scoring loop, check the protocol for leaks and compute every figure.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from facemetric.errors import ConfigError, InputError, ProtocolError
from facemetric.experiments.driver import (
    SCORING_CHUNK,
    accuracy_folds,
    learns_something,
    make_method,
    resolve_flip,
    score_protocol,
    single_fold_note,
)
from facemetric.identity import check_labels_agree
from facemetric.types import DescriptorSet, PairProtocol
from facemetric.verify import evaluate_scores
from facemetric.verify.curves import check_scores
from facemetric.verify.evaluation import VerificationResult
from facemetric.verify.guard import ProtocolWarning, check_protocol, protocol_identities


def training_split(descriptors: DescriptorSet, protocol: PairProtocol) -> DescriptorSet:
    """Descriptors of identities that do not appear in the protocol, and never a protocol image
    (unknown labels dropped). Refuses labels that disagree with the identities the protocol states."""
    check_labels_agree(protocol, descriptors)
    test_ids = set(protocol_identities(protocol, descriptors).tolist()) - {""}
    in_protocol = np.isin(descriptors.ids, protocol.images)
    keep = ~np.isin(descriptors.labels, list(test_ids)) & (descriptors.labels != "") & ~in_protocol
    return descriptors.subset(np.flatnonzero(keep))


@dataclass
class EvaluationRun:
    """What ``evaluate_protocol`` produced: scores, figures, notes and the config used."""

    scores: np.ndarray
    result: VerificationResult
    protocol: PairProtocol
    metric: Any
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def evaluate_protocol(
    descriptors: DescriptorSet,
    protocol: PairProtocol,
    *,
    method: str = "cosine",
    flip: str = "auto",
    model_dir: str | Path | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    chunk_size: int = SCORING_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> EvaluationRun:
    """Fuse (``flip="auto"``: sum when flipped descriptors exist), fit (outside the protocol's
    identities) or load, score and evaluate."""
    if protocol.labels is None:
        raise ProtocolError(
            f"{protocol.name}: the protocol has hidden labels; it can be scored but not evaluated"
        )
    try:  # the labels can be evaluated at all: both classes present
        check_scores(protocol.labels, np.zeros(len(protocol)))
    except InputError as exc:
        raise ProtocolError(f"{protocol.name}: {exc}") from None
    protocol.resolve(descriptors)  # every image has a descriptor: fail before any fitting
    flip = resolve_flip(flip, descriptors)
    fused = descriptors.fused(flip)
    metric = make_method(method, model_dir)
    notes: list[str] = []
    train_identities = None
    if model_dir is not None:
        notes.append(f"metric loaded from {model_dir}")
        trained = getattr(metric, "training_identities_", None)
        train_identities = None if trained is None else np.asarray(trained)
    elif learns_something(metric):
        train = training_split(fused, protocol)
        if len(train) == 0:
            raise ConfigError(
                f"method {method!r} must be fitted, but every descriptor belongs to an identity of the protocol; "
                "fit it elsewhere and pass --model"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ProtocolWarning)
            metric.fit_descriptors(train)
        train_identities = np.unique(train.labels)
        notes.append(
            f"{method} fitted on {len(train)} descriptors of {train_identities.size} identities "
            "that do not appear in the protocol"
        )
    else:
        metric.fit(fused.X[:1])  # learns nothing; records the dimension
    # every descriptor of the file is shown to the metric, as this command always did (see score_protocol)
    scores = score_protocol(metric, fused, protocol, chunk_size=chunk_size, all_rows=True)
    found = check_protocol(
        protocol, protocol_identities(protocol, fused), train_identities=train_identities, warn=False
    )
    folds = accuracy_folds(protocol.folds)
    result = evaluate_scores(protocol.labels, scores, folds, n_bootstrap=n_bootstrap, seed=seed, progress=progress)
    note = single_fold_note(protocol, result.kfold.per_fold.size, seed)
    if note:
        notes.append(note)
    config = {
        "method": method if model_dir is None else type(metric).__name__,
        "model": None if model_dir is None else str(model_dir),
        "flip": flip,
        "protocol": protocol.name,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "metric_params": _params(metric),
        "provenance": fused.provenance.to_dict(),
        "threshold_rule": "accept score >= threshold; per fold, the midpoint threshold maximising accuracy "
        "on the other folds",
    }
    return EvaluationRun(scores, result, protocol, metric, notes, found, config)


def _params(metric: Any) -> dict[str, Any]:
    try:
        params = metric.get_params(deep=False)
    except Exception:  # noqa: BLE001 - a metric without sklearn params
        return {}
    return {
        k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v) for k, v in params.items()
    }
