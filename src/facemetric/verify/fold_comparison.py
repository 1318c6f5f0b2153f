"""Two systems compared fold by fold, paired: the comparison of k-fold learned metrics.

In identity-disjoint k-fold every fold is scored by its own model, on its own score scale, so
a pooled AUC (or a pooled "1-AUC vs cosine") mixes k scales. Within a fold the scale is one,
so the comparison is made there and then summarised over the folds, which are the independent
units (they share no identity):

* per fold ``k``: the relative change of the error ``e = 1 - AUC`` against the reference,
  ``r_k = (e_k - e_ref,k) / e_ref,k`` (a fold where the reference makes no error is left out);
* the headline is the mean of the ``r_k``, with its standard error ``std(ddof=1) / sqrt(k)``;
* the p-value is the exact two-sided sign-flip (paired randomisation) test of "mean ``r_k`` = 0":
  under the null each fold's change is as likely positive as negative, so all ``2^k`` sign
  assignments are equally likely. Its floor is ``2 / 2^k`` (about 0.002 for 10 folds).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from facemetric.errors import InputError
from facemetric.verify.curves import check_scores, roc_auc

MAX_EXACT_FOLDS = 16  # 2^16 sign assignments; more folds draw them at random


@dataclass(frozen=True)
class FoldComparison:
    """Per-fold relative change of 1-AUC against the reference (fractions, not %), their mean and
    standard error, and the sign-flip p-value with its floor."""

    per_fold: np.ndarray
    folds: np.ndarray
    mean: float
    se: float
    p_value: float
    p_value_floor: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "one_minus_auc_change_per_fold": [float(v) for v in self.per_fold],
            "mean": self.mean, "se": self.se, "p_value": self.p_value, "p_value_floor": self.p_value_floor,
            "test": "exact two-sided sign-flip test over folds", "n_folds": int(self.per_fold.size),
        }


def fold_errors(y_true: Any, y_score: Any, folds: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(fold ids, 1 - AUC of each fold)``; NaN for a fold that lacks a class."""
    y, s = check_scores(y_true, y_score)
    folds = np.asarray(folds)
    if folds.shape != y.shape:
        raise InputError(f"folds must give one fold per pair ({y.size}); got shape {folds.shape}")
    ids = np.unique(folds)
    err = np.full(ids.size, np.nan)
    for k, f in enumerate(ids):
        m = folds == f
        if 0 < y[m].sum() < m.sum():
            err[k] = 1.0 - roc_auc(y[m], s[m])
    return ids, err


def sign_flip_p_value(values: np.ndarray, *, seed: int = 0, n_random: int = 100_000) -> tuple[float, float]:
    """``(p, floor)``: two-sided sign-flip test of mean 0, exact up to :data:`MAX_EXACT_FOLDS` values."""
    v = np.asarray(values, dtype=np.float64)
    k = v.size
    if k == 0:
        return float("nan"), float("nan")
    observed = abs(v.mean())
    if k <= MAX_EXACT_FOLDS:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=k)))
        floor = 2.0 / signs.shape[0] if np.any(v != 0) else 1.0
    else:
        rng = np.random.default_rng(seed)
        signs = np.vstack([np.ones(k), rng.choice((1.0, -1.0), size=(n_random, k))])
        floor = 1.0 / signs.shape[0]
    stats = np.abs(signs @ v) / k
    p = float(np.mean(stats >= observed * (1.0 - 1e-12)))
    return p, floor


def compare_per_fold(y_true: Any, scores: Any, reference: Any, folds: Any, *, seed: int = 0) -> FoldComparison:
    """Compare ``scores`` with ``reference`` (same pairs, same labels) fold by fold (see the module)."""
    ids, err = fold_errors(y_true, scores, folds)
    _, ref = fold_errors(y_true, reference, folds)
    keep = np.isfinite(err) & np.isfinite(ref) & (ref > 0)
    change = (err[keep] - ref[keep]) / ref[keep]
    if change.size == 0:
        nan = float("nan")
        return FoldComparison(change, ids[keep], nan, nan, nan, nan)
    se = float(change.std(ddof=1) / np.sqrt(change.size)) if change.size > 1 else float("nan")
    p, floor = sign_flip_p_value(change, seed=seed)
    return FoldComparison(change, ids[keep], float(change.mean()), se, p, floor)
