"""The scores a method gave to a protocol's pairs, and how they were obtained."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class ProtocolScores:
    """Scores (M,) of one method on one protocol, in the protocol's pair order.

    ``mode`` is "kfold" (each fold scored by a metric fitted on identities absent from that
    fold) or "train-test". ``fold_auc`` holds the AUC of each fold (empty without labels or folds).
    In k-fold mode ``fold_thresholds`` holds each fold's accuracy threshold, chosen by that fold's model
    on its training folds' pairs (``threshold_folds`` names the folds).
    ``rejected`` (M,) marks the pairs with a side that has no descriptor, kept as rejections
    (:mod:`facemetric.enrolment`): their score is below every real score; None when there are none.
    """

    method: str
    scores: np.ndarray
    labels: np.ndarray | None
    folds: np.ndarray | None
    mode: str
    transductive: bool = False
    fit_seconds: float = 0.0
    score_seconds: float = 0.0
    n_train: list[int] = field(default_factory=list)
    fold_auc: list[float] = field(default_factory=list)
    rejected: np.ndarray | None = None
    threshold_folds: np.ndarray | None = None
    fold_thresholds: np.ndarray | None = None

    def own_thresholds(self) -> dict[int, float] | None:
        """k-fold mode: fold id -> the accuracy threshold its own model chose on its training folds' pairs
        (:func:`facemetric.experiments.driver.own_threshold`); None in train/test mode (one model, whose
        threshold for each fold is chosen on the other folds' pairs as usual)."""
        if self.threshold_folds is None or self.fold_thresholds is None:
            return None
        return {int(f): float(t) for f, t in zip(self.threshold_folds, self.fold_thresholds)}

    def with_rejections(self, protocol: Any, missing: Any) -> ProtocolScores:
        """These scores (of ``protocol``'s scorable pairs) put back into all of ``protocol``'s pairs, the
        ones with a missing side scored below every real score (:func:`facemetric.enrolment.reject_scores`)."""
        from dataclasses import replace

        from facemetric.enrolment import reject_scores

        if not missing.n_pairs:
            return self
        scores = reject_scores(self.scores, missing)
        return replace(self, scores=scores, labels=protocol.labels, folds=protocol.folds,
                       fold_auc=per_fold_auc(protocol.labels, scores, protocol.folds), rejected=missing.pairs.copy())

    def fold_auc_summary(self) -> dict[str, Any]:
        """Mean, standard deviation (ddof=1) and standard error of the mean of the per-fold AUCs."""
        if not self.fold_auc:
            return {"fold_auc_mean": None, "fold_auc_std": None, "fold_auc_se": None}
        arr = np.asarray(self.fold_auc, dtype=np.float64)
        std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
        return {"fold_auc_mean": float(arr.mean()), "fold_auc_std": std, "fold_auc_se": std / float(np.sqrt(arr.size))}


def per_fold_auc(labels: np.ndarray | None, scores: np.ndarray, folds: np.ndarray | None) -> list[float]:
    """AUC within each fold that has both classes; [] without labels or folds."""
    if labels is None or folds is None:
        return []
    from facemetric.verify import roc_auc

    out = []
    for f in np.unique(folds):
        m = folds == f
        if np.unique(labels[m]).size == 2:
            out.append(float(roc_auc(labels[m], scores[m])))
    return out
