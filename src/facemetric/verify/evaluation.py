"""All verification figures of one system on one protocol, with bootstrap CIs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facemetric.verify.accuracy import (
    FoldPlan,
    KFoldAccuracy,
    check_folds,
    kfold_at_thresholds,
    kfold_from_plan,
    make_folds,
)
from facemetric.verify.bootstrap import bootstrap_from_plans, check_confidence, check_n_bootstrap
from facemetric.verify.curves import (
    DEFAULT_FARS,
    SortedScores,
    auc_from_rates,
    check_fars,
    check_scores,
    eer_from_rates,
    far_key,
    tar_from_rates,
)
from facemetric.verify.units import resampling_units


#: How each fold's accuracy threshold was chosen (``VerificationResult.own_thresholds``).
THRESHOLD_RULES = {
    False: "accept score >= threshold; per fold, the midpoint threshold maximising accuracy on the other folds",
    True: "accept score >= threshold; per fold, the threshold that fold's own model chose on its training "
          "folds' pairs",
}


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@dataclass(frozen=True)
class VerificationResult:
    """ROC-AUC, k-fold accuracy, EER and TAR@FAR (keys are FAR floats) plus CIs.

    ``cis`` maps "auc", "eer", "accuracy" to (low, high) and "tar_at_far" to {far: (low, high)};
    it is empty when ``n_bootstrap`` is 0. ``resample`` names what the bootstrap resampled
    ("identity", "fold" or "pair"), ``n_resample_units`` how many of them there were.
    """

    auc: float
    accuracy: float
    accuracy_std: float
    eer: float
    tar_at_far: dict[float, float]
    n_pairs: int
    n_positive: int
    n_negative: int
    kfold: KFoldAccuracy
    folds_from_protocol: bool
    cis: dict[str, Any] = field(default_factory=dict)
    n_bootstrap: int = 0
    confidence: float = 0.95
    seed: int = 0
    resample: str = "pair"
    n_resample_units: int = 0
    resample_note: str = ""
    ci_shrink: dict[str, Any] = field(default_factory=dict)
    own_thresholds: bool = False

    @property
    def accuracy_se(self) -> float:
        """Standard error of the k-fold mean accuracy, ``std(ddof=1) / sqrt(k)``."""
        return self.kfold.se

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; FAR keys read "1e-3", non-finite values become null."""
        cis: dict[str, Any] = {}
        for key, val in self.cis.items():
            if key == "tar_at_far":
                cis[key] = {far_key(f): [_finite_or_none(v) for v in ci] for f, ci in val.items()}
            else:
                cis[key] = [_finite_or_none(v) for v in val]
        shrink: dict[str, Any] = {}
        for key, val in self.ci_shrink.items():
            shrink[key] = {far_key(f): v for f, v in val.items()} if key == "tar_at_far" else val
        return {
            "auc": self.auc,
            "accuracy": self.accuracy,
            "accuracy_std": self.accuracy_std,
            "accuracy_se": _finite_or_none(self.accuracy_se),
            "eer": self.eer,
            "tar_at_far": {far_key(f): _finite_or_none(v) for f, v in self.tar_at_far.items()},
            "n_pairs": self.n_pairs,
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
            "accuracy_per_fold": self.kfold.per_fold.tolist(),
            "thresholds_per_fold": [_finite_or_none(t) for t in self.kfold.thresholds],
            "n_folds": int(self.kfold.per_fold.size),
            "folds_from_protocol": self.folds_from_protocol,
            "threshold_rule": THRESHOLD_RULES[self.own_thresholds],
            "cis": cis,
            "confidence": self.confidence,
            "n_bootstrap": self.n_bootstrap,
            "seed": self.seed,
            "resample": self.resample,
            "n_resample_units": self.n_resample_units,
            "resample_note": self.resample_note,
            "ci_variance_factor": shrink,
        }


def evaluate_scores(
    y_true: Any,
    y_score: Any,
    folds: Any = None,
    *,
    groups: Any = None,
    resample: str = "auto",
    n_bootstrap: int = 1000,
    seed: int = 0,
    fars: Iterable[float] = DEFAULT_FARS,
    confidence: float = 0.95,
    thresholds: dict[int, float] | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerificationResult:
    """Every figure of a verification run. ``folds=None`` draws 10 stratified folds with ``seed``.

    ``groups=(id_a, id_b)`` gives the identities of both sides of every pair: the bootstrap then
    resamples identities (the default ``resample="auto"``); without it, pairs. ``resample`` may
    also force "identity", "fold" (the protocol's folds) or "pair"; see
    :mod:`facemetric.verify.units`. ``progress(1)`` is called after each bootstrap replicate.

    ``thresholds`` (fold id -> threshold) fixes each fold's accuracy threshold instead of choosing
    it on the other folds' scores: identity-disjoint k-fold of a learned metric, where fold ``k``'s
    own model chose it on its training folds' pairs (docs/protocols.md, "One k-fold rule"). The
    accuracy then has no bootstrap interval (the replicates would re-choose thresholds across
    models); its spread is the standard error over the folds.
    """
    n_bootstrap = check_n_bootstrap(n_bootstrap)
    confidence = check_confidence(confidence)
    y, s = check_scores(y_true, y_score)
    fars = check_fars(fars)
    units = resampling_units(y.size, groups=groups, folds=folds, resample=resample)
    scores = SortedScores(y, s)  # one sort shared by the curve, the folds and the bootstrap
    fpr, tpr, n_neg = scores.rates()
    auc, eer, tars = auc_from_rates(fpr, tpr), eer_from_rates(fpr, tpr), tar_from_rates(fpr, tpr, n_neg, fars)
    del fpr, tpr
    fold_ids = make_folds(y, seed=seed) if folds is None else check_folds(folds, y.size)
    plan = FoldPlan(scores, fold_ids)
    kfold = kfold_from_plan(plan) if thresholds is None else kfold_at_thresholds(y, s, fold_ids, thresholds)
    cis: dict[str, Any] = {}
    shrink: dict[str, Any] = {}
    if n_bootstrap:
        boot = bootstrap_from_plans(
            scores,
            plan,
            n_bootstrap=n_bootstrap,
            seed=seed,
            fars=fars,
            confidence=confidence,
            units=units,
            exact={
                "auc": np.asarray(auc),
                "eer": np.asarray(eer),
                "tar": np.array([tars[f] for f in fars]),
                "accuracy": np.asarray(kfold.mean),
            },
            progress=progress,
        )
        cis, shrink = boot.cis, boot.shrink
        if thresholds is not None:
            cis.pop("accuracy", None)
            shrink.pop("accuracy", None)
    n_pos = int(y.sum())
    return VerificationResult(
        auc=auc,
        accuracy=kfold.mean,
        accuracy_std=kfold.std,
        eer=eer,
        tar_at_far=tars,
        n_pairs=int(y.size),
        n_positive=n_pos,
        n_negative=int(y.size - n_pos),
        kfold=kfold,
        folds_from_protocol=folds is not None,
        own_thresholds=thresholds is not None,
        cis=cis,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
        resample=units.kind,
        n_resample_units=units.n_units,
        resample_note=units.note,
        ci_shrink=shrink,
    )
