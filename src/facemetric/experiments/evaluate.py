"""Evaluate one method on one protocol: the library behind ``facemetric evaluate``.

Fuse the flipped descriptors, pick or load the metric, fit a learned metric only on the
identities outside the protocol (:func:`training_split`), score the pairs with the driver's
scoring loop, apply the policy for pairs with a side that has no descriptor
(:mod:`facemetric.enrolment`), check the protocol for leaks and compute every figure.
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
from facemetric.enrolment import DEFAULT_MISSING, MissingPairs, find_missing, reject_scores, scorable_pairs
from facemetric.identity import check_labels_agree, label_disagreements, pair_identities
from facemetric.types import DescriptorSet, PairProtocol
from facemetric.verify import evaluate_scores
from facemetric.verify.curves import check_scores
from facemetric.verify.evaluation import THRESHOLD_RULES, VerificationResult
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
    """What ``evaluate_protocol`` produced: scores, figures, notes and the config used.

    ``protocol`` is the protocol evaluated (all pairs under ``missing="reject"``, the scorable ones
    under "drop") and ``scores`` its scores in pair order; ``missing`` says which pairs had a side
    without a descriptor, and ``rejected`` marks them in ``protocol`` (None when none is kept).
    """

    scores: np.ndarray
    result: VerificationResult
    protocol: PairProtocol
    metric: Any
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    missing: MissingPairs | None = None
    rejected: np.ndarray | None = None

    def report_scores(self) -> np.ndarray:
        """The per-pair scores for a report: NaN (null in JSON) for rejected pairs, which had no score."""
        if self.rejected is None:
            return self.scores
        return np.where(self.rejected, np.nan, self.scores)

    def report(self) -> dict[str, Any]:
        """The JSON report (:func:`facemetric.verify.report.build_report`): figures, CIs, ``pairs`` (a rejected
        pair's score is null), config, warnings, notes, and ``missing_policy``, ``n_missing_pairs`` and
        ``missing`` (the images without a descriptor, their pairs, the failure-to-enrol rate)."""
        from facemetric.verify.report import build_report

        p = self.protocol
        report = build_report(
            self.result, scores=self.report_scores(), labels=p.labels, pair_ids=p.pair_ids, a=p.a, b=p.b,
            folds=self.result.kfold.folds, config=self.config, warnings=self.warnings,
        )
        report["notes"] = list(self.notes)
        if self.rejected is not None:
            report["pairs"]["rejected"] = self.rejected.tolist()
        policy = self.config.get("missing_policy", DEFAULT_MISSING)
        report["missing_policy"] = policy
        report["n_missing_pairs"] = 0 if self.missing is None else self.missing.n_pairs
        report["missing"] = None if self.missing is None else self.missing.to_dict()
        return report


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
    missing: str = DEFAULT_MISSING,
    resample: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> EvaluationRun:
    """Fuse (``flip="auto"``: sum when flipped descriptors exist), fit (outside the protocol's
    identities) or load, score and evaluate.

    ``missing`` is the policy for pairs with a side that has no descriptor: "reject" (counted as
    rejections), "drop" (left out) or "error" (see :mod:`facemetric.enrolment`). The bootstrap resamples
    the identities of the pairs (``resample="auto"``, from the protocol or the descriptors), or
    "fold", "pair", "identity" (see :mod:`facemetric.verify.units`).
    """
    if protocol.labels is None:
        raise ProtocolError(
            f"{protocol.name}: the protocol has hidden labels; it can be scored but not evaluated"
        )
    try:  # the labels can be evaluated at all: both classes present
        check_scores(protocol.labels, np.zeros(len(protocol)))
    except InputError as exc:
        raise ProtocolError(f"{protocol.name}: {exc}") from None
    flip = resolve_flip(flip, descriptors)
    fused = descriptors.fused(flip)
    absent = find_missing(protocol, fused, missing)  # under "error", fails before any fitting
    scored_pairs = scorable_pairs(protocol, absent)
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
    scores = score_protocol(metric, fused, scored_pairs, chunk_size=chunk_size, all_rows=True)
    evaluated, rejected = scored_pairs, None
    if missing == "reject" and absent.n_pairs:
        evaluated, rejected, scores = protocol, absent.pairs, reject_scores(scores, absent)
    found = check_protocol(
        protocol, protocol_identities(protocol, fused), train_identities=train_identities, warn=False
    )
    n_bad, n_compared, example = label_disagreements(protocol, fused)
    if n_bad:
        found.append(f"{protocol.name}: the descriptor labels disagree with the identities the protocol states "
                     f"for {n_bad} of {n_compared} images ({example}); the checks use the protocol's")
    if absent.n_images:
        notes.append(absent.summary())
    folds = accuracy_folds(evaluated.folds)
    result = evaluate_scores(evaluated.labels, scores, folds, groups=pair_identities(evaluated, fused),
                             resample=resample, n_bootstrap=n_bootstrap, seed=seed, progress=progress)
    note = single_fold_note(evaluated, result.kfold.per_fold.size, seed)
    if note:
        notes.append(note)
    if getattr(metric, "transductive", False):
        notes.append(f"{method if model_dir is None else type(metric).__name__} is transductive: its scores "
                     "depend on the unlabelled descriptors of the scored images (never on labels)")
    config = {
        "method": method if model_dir is None else type(metric).__name__,
        "model": None if model_dir is None else str(model_dir),
        "transductive": bool(getattr(metric, "transductive", False)),
        "flip": flip,
        "protocol": protocol.name,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "missing_policy": missing,
        "resample": result.resample,
        "metric_params": _params(metric),
        "provenance": fused.provenance.to_dict(),
        "threshold_rule": THRESHOLD_RULES[False],  # one model for every fold
    }
    return EvaluationRun(scores, result, evaluated, metric, notes, found, config, absent, rejected)


def _params(metric: Any) -> dict[str, Any]:
    try:
        params = metric.get_params(deep=False)
    except Exception:  # noqa: BLE001 - a metric without sklearn params
        return {}
    return {
        k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v) for k, v in params.items()
    }
