"""k-fold verification accuracy with the threshold chosen on the other folds only.

For each fold, the threshold that maximises accuracy on the pairs of all *other* folds is
applied to the held-out fold (as insightface's ``verification.py`` does, but with an exact
search over every distinct score instead of a fixed grid). The chosen threshold is the
midpoint between the two neighbouring distinct training scores; among equally good
thresholds the highest (strictest) is taken. Pairs with ``score >= threshold`` are "same".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from facemetric.errors import InputError
from facemetric.verify.curves import SortedScores, check_scores, sorted_counts, tie_ends

DEFAULT_N_FOLDS = 10


@dataclass(frozen=True)
class KFoldAccuracy:
    """Mean of the per-fold accuracies, their standard deviation (population, ddof=0, as
    insightface prints it) and the standard error of the mean (``std(ddof=1) / sqrt(k)``)."""

    mean: float
    std: float
    per_fold: np.ndarray
    thresholds: np.ndarray
    folds: np.ndarray

    @property
    def se(self) -> float:
        """Standard error of the mean over the k folds, ``std(ddof=1) / sqrt(k)``."""
        k = self.per_fold.size
        return float(self.per_fold.std(ddof=1) / np.sqrt(k)) if k > 1 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "std": self.std,
            "se": self.se,
            "per_fold": self.per_fold.tolist(),
            "thresholds": self.thresholds.tolist(),
        }


def best_threshold_sorted(
    y_sorted: np.ndarray, s_sorted: np.ndarray, w_sorted: np.ndarray | None = None
) -> float:
    """Accuracy-maximising threshold on pairs sorted by decreasing score.

    Accepting the top group ``i`` gives ``tps_i + (n_neg - fps_i)`` correct pairs, so the best
    group maximises ``tps_i - fps_i``; accepting nothing scores 0 on that scale and wins ties.
    """
    fps, tps, _ = sorted_counts(y_sorted, s_sorted, w_sorted, thresholds=False)
    tps -= fps  # in place: the gain over "accept nothing"
    del fps
    best = int(np.argmax(tps))
    if tps[best] <= 0:
        return float("inf")
    del tps
    ends = tie_ends(s_sorted)
    if best == ends.size - 1:
        return float("-inf")
    hi, lo = s_sorted[ends[best]], s_sorted[ends[best] + 1]
    t = 0.5 * (hi + lo)
    return float(hi) if t <= lo else float(t)


def best_threshold(y_true: Any, y_score: Any) -> float:
    """The threshold that maximises accuracy on these pairs (``score >= t`` means "same")."""
    y = np.asarray(y_true).astype(np.int8)
    s = np.asarray(y_score, dtype=np.float64)
    order = np.argsort(s, kind="stable")[::-1]
    return best_threshold_sorted(y[order], s[order])


def make_folds(y_true: Any, n_folds: int = DEFAULT_N_FOLDS, *, seed: int = 0) -> np.ndarray:
    """Stratified, shuffled fold ids (0..n_folds-1) for protocols that bring none.

    Each class is shuffled with ``seed`` and dealt round-robin, so every fold gets the same
    share of matched pairs (to one pair).
    """
    y = np.asarray(y_true)
    n_pos = int(np.count_nonzero(y))
    n_folds = min(n_folds, n_pos, y.size - n_pos)
    if n_folds < 2:
        raise InputError(
            f"k-fold accuracy needs at least 2 matched and 2 mismatched pairs; got {n_pos} and {y.size - n_pos}"
        )
    rng = np.random.default_rng(seed)
    folds = np.empty(y.size, dtype=np.int32)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        folds[idx] = np.arange(idx.size) % n_folds
    return folds


class FoldPlan:
    """Per-fold thresholds and accuracies on scores sorted once (see :class:`SortedScores`)."""

    def __init__(self, scores: SortedScores, folds: np.ndarray) -> None:
        self.scores = scores
        self.folds = folds
        self.f_sorted = folds[scores.order]
        self.fold_ids = np.unique(folds)

    def evaluate(self, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-fold accuracies and thresholds; ``weights`` are per-pair (unsorted) counts."""
        sc = self.scores
        w_sorted = None if weights is None else weights[sc.order]
        accs = np.full(self.fold_ids.size, np.nan)
        thrs = np.full(self.fold_ids.size, np.nan)
        for k, fold in enumerate(self.fold_ids):
            train = self.f_sorted != fold
            if w_sorted is not None:
                train &= w_sorted > 0  # a pair drawn zero times must not add a candidate threshold
            y_train = sc.y_sorted[train]
            n_pos = int(np.count_nonzero(y_train))
            test = self.folds == fold
            w_test = None if weights is None else weights[test]
            if n_pos == 0 or n_pos == y_train.size or (w_test is not None and w_test.sum() == 0):
                continue
            t = best_threshold_sorted(
                y_train, sc.s_sorted[train], None if w_sorted is None else w_sorted[train]
            )
            del train, y_train
            hit = (sc.s[test] >= t) == (sc.y[test] == 1)
            accs[k] = hit.mean() if w_test is None else np.average(hit, weights=w_test)
            thrs[k] = t
        return accs, thrs


def check_folds(folds: Any, n: int) -> np.ndarray:
    folds = np.asarray(folds)
    if folds.shape != (n,) or not np.issubdtype(folds.dtype, np.integer):
        raise InputError(
            f"folds must be {n} integers, one per pair; got shape {folds.shape}, dtype {folds.dtype}"
        )
    if np.unique(folds).size < 2:
        raise InputError(
            "k-fold accuracy needs at least 2 folds; give folds=None to make 10 stratified folds"
        )
    return folds


def kfold_accuracy(y_true: Any, y_score: Any, folds: Any = None, *, seed: int = 0) -> KFoldAccuracy:
    """Mean k-fold accuracy; each fold's threshold is chosen on the other folds only.

    With ``folds=None``, 10 stratified folds are drawn with ``seed``.
    """
    y, s = check_scores(y_true, y_score)
    folds = make_folds(y, seed=seed) if folds is None else check_folds(folds, y.size)
    return kfold_from_plan(FoldPlan(SortedScores(y, s), folds))


def kfold_from_plan(plan: FoldPlan) -> KFoldAccuracy:
    accs, thrs = plan.evaluate()
    if np.isnan(accs).any():
        bad = plan.fold_ids[np.isnan(accs)][0]
        raise InputError(
            f"fold {bad}: the other folds lack matched or mismatched pairs, so no threshold can be chosen"
        )
    return KFoldAccuracy(
        mean=float(accs.mean()), std=float(accs.std()), per_fold=accs, thresholds=thrs, folds=plan.folds
    )


def kfold_at_thresholds(y_true: Any, y_score: Any, folds: Any, thresholds: dict[int, float]) -> KFoldAccuracy:
    """k-fold accuracy with each fold's threshold given (``fold id -> threshold``), not searched here.

    The rule of learned metrics in identity-disjoint k-fold: fold ``k``'s threshold was chosen by
    fold ``k``'s own model on its training folds' pairs (docs/protocols.md, "One k-fold rule"), so
    it is never compared with another model's scores. Pairs with ``score >= threshold`` are "same".
    """
    y, s = check_scores(y_true, y_score)
    folds = check_folds(folds, y.size)
    fold_ids = np.unique(folds)
    absent = [int(f) for f in fold_ids if np.isnan(thresholds.get(int(f), np.nan))]
    if absent:
        raise InputError(f"fold {absent[0]}: no threshold was chosen for it (its training folds lack matched "
                         "or mismatched pairs)")
    thrs = np.array([thresholds[int(f)] for f in fold_ids], dtype=np.float64)
    accs = np.array([np.mean((s[folds == f] >= t) == (y[folds == f] == 1)) for f, t in zip(fold_ids, thrs)])
    return KFoldAccuracy(mean=float(accs.mean()), std=float(accs.std()), per_fold=accs, thresholds=thrs, folds=folds)
