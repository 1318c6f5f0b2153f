"""Seeded bootstrap over pairs: confidence intervals and the paired test between two systems.

A replicate draws ``n`` pairs with replacement; it is represented by per-pair counts
(weights), so scores are sorted once and each replicate costs O(n).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from facemetric.errors import ConfigError
from facemetric.verify.accuracy import FoldPlan
from facemetric.verify.curves import (
    DEFAULT_FARS,
    SortedScores,
    auc_from_rates,
    check_scores,
    eer_from_rates,
    far_key,
    tar_from_rates,
)

CURVE_METRICS = ("auc", "eer")


def check_n_bootstrap(n_bootstrap: int) -> int:
    if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
        raise ConfigError(f"The 'n_bootstrap' parameter must be an int >= 0. Got {n_bootstrap!r} instead.")
    return int(n_bootstrap)


def replicate_weights(n: int, n_bootstrap: int, seed: int):
    """Yield ``n_bootstrap`` integer count vectors of ``n`` pairs drawn with replacement."""
    rng = np.random.default_rng(seed)
    for _ in range(n_bootstrap):
        yield np.bincount(rng.integers(0, n, n), minlength=n)


def curve_metrics(scores: SortedScores, weights: np.ndarray | None, fars: Iterable[float]) -> dict[str, Any]:
    """AUC, EER and TAR@FAR of the (weighted) pairs; NaN when a class has no weight."""
    fars = tuple(fars)
    got = scores.rates(weights)
    if got is None:
        return {"auc": np.nan, "eer": np.nan, "tar_at_far": {f: np.nan for f in fars}}
    fpr, tpr, n_neg = got
    return {
        "auc": auc_from_rates(fpr, tpr),
        "eer": eer_from_rates(fpr, tpr),
        "tar_at_far": tar_from_rates(fpr, tpr, n_neg, fars),
    }


def percentile_ci(values: np.ndarray, confidence: float) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (float("nan"), float("nan"))
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(values, [alpha, 1.0 - alpha])
    return (float(lo), float(hi))


def bootstrap_cis(
    y_true: Any,
    y_score: Any,
    folds: np.ndarray | None = None,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    fars: Iterable[float] = DEFAULT_FARS,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Percentile CIs of AUC, EER, TAR@FAR and (with folds) k-fold accuracy.

    Returns ``{"auc": (lo, hi), "eer": ..., "accuracy": ..., "tar_at_far": {far: (lo, hi)}}``.
    """
    n_bootstrap = check_n_bootstrap(n_bootstrap)
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"The 'confidence' parameter must be in (0, 1). Got {confidence!r} instead.")
    y, s = check_scores(y_true, y_score)
    scores = SortedScores(y, s)
    plan = None if folds is None else FoldPlan(scores, np.asarray(folds))
    return bootstrap_from_plans(
        scores, plan, n_bootstrap=n_bootstrap, seed=seed, fars=fars, confidence=confidence
    )


def bootstrap_from_plans(
    scores: SortedScores,
    plan: FoldPlan | None,
    *,
    n_bootstrap: int,
    seed: int,
    fars: Iterable[float],
    confidence: float,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """:func:`bootstrap_cis` on pairs already sorted (shared with the point estimates).

    ``progress(1)`` is called after each replicate (for a progress bar).
    """
    fars = tuple(float(f) for f in fars)
    aucs, eers, accs = (np.empty(n_bootstrap) for _ in range(3))
    tars = np.empty((n_bootstrap, len(fars)))
    for b, w in enumerate(replicate_weights(scores.y.size, n_bootstrap, seed)):
        m = curve_metrics(scores, w, fars)
        aucs[b], eers[b] = m["auc"], m["eer"]
        tars[b] = [m["tar_at_far"][f] for f in fars]
        accs[b] = np.nanmean(plan.evaluate(w)[0]) if plan is not None else np.nan
        if progress is not None:
            progress(1)
    out: dict[str, Any] = {
        "auc": percentile_ci(aucs, confidence),
        "eer": percentile_ci(eers, confidence),
        "tar_at_far": {f: percentile_ci(tars[:, j], confidence) for j, f in enumerate(fars)},
    }
    if plan is not None:
        out["accuracy"] = percentile_ci(accs, confidence)
    return out


@dataclass(frozen=True)
class PairedTestResult:
    """Difference ``a - b`` of one metric between two systems scored on the same pairs."""

    metric: str
    value_a: float
    value_b: float
    difference: float
    ci: tuple[float, float]
    p_value: float
    n_bootstrap: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value_a": self.value_a,
            "value_b": self.value_b,
            "difference": self.difference,
            "ci": list(self.ci),
            "p_value": self.p_value,
            "n_bootstrap": self.n_bootstrap,
            "seed": self.seed,
        }


def paired_test(
    y_true: Any,
    score_a: Any,
    score_b: Any,
    *,
    metric: str = "auc",
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> PairedTestResult:
    """Paired bootstrap test of ``metric(a) - metric(b)`` (``metric`` is "auc", "eer" or a FAR key
    such as "tar@1e-3").

    Both systems are resampled with the same pairs in every replicate. The two-sided p-value
    is that of the null-centred bootstrap: the share of replicates whose difference lies at
    least as far from the observed one as the observed one lies from zero.
    """
    n_bootstrap = check_n_bootstrap(n_bootstrap)
    if n_bootstrap < 1:
        raise ConfigError("The 'n_bootstrap' parameter of paired_test must be >= 1. Got 0 instead.")
    y, sa = check_scores(y_true, score_a)
    _, sb = check_scores(y_true, score_b)
    far = None
    if metric.startswith("tar@"):
        try:
            far = float(metric[4:])
        except ValueError:
            raise ConfigError(
                f"The 'metric' parameter of paired_test got {metric!r}; write e.g. 'tar@1e-3'"
            ) from None
    elif metric not in CURVE_METRICS:
        raise ConfigError(
            f"The 'metric' parameter of paired_test must be 'auc', 'eer' or 'tar@<far>'. Got {metric!r} instead."
        )
    fars = () if far is None else (far,)
    plan_a, plan_b = SortedScores(y, sa), SortedScores(y, sb)

    def value(plan: SortedScores, w: np.ndarray | None) -> float:
        m = curve_metrics(plan, w, fars)
        return m["tar_at_far"][far] if far is not None else m[metric]

    va, vb = value(plan_a, None), value(plan_b, None)
    diff = va - vb
    diffs = np.array(
        [value(plan_a, w) - value(plan_b, w) for w in replicate_weights(y.size, n_bootstrap, seed)]
    )
    diffs = diffs[np.isfinite(diffs)]
    extreme = np.count_nonzero(np.abs(diffs - diff) >= abs(diff) - 1e-15)
    p_value = (1 + extreme) / (1 + diffs.size)
    name = metric if far is None else f"tar@{far_key(far)}"
    return PairedTestResult(
        metric=name,
        value_a=float(va),
        value_b=float(vb),
        difference=float(diff),
        ci=percentile_ci(diffs, confidence),
        p_value=float(min(1.0, p_value)),
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
