"""Seeded bootstrap that respects shared identities: confidence intervals and the paired test.

What a replicate resamples is set by :class:`~facemetric.verify.units.ResamplingUnits`:

* ``"identity"`` (the default when identities are known): identities are drawn with
  replacement. A pair of one identity appears ``W[a]`` times, a pair joining two appears
  ``W[a] * W[b]`` times (Owen's pigeonhole product weights). That product counts the pair's own
  noise three times instead of once (no exact bootstrap exists for such crossed designs,
  McCullagh 2000), so the replicates are shrunk towards the estimate by
  ``sqrt((V - 2 V2) / V)``, where ``V`` is their variance and ``V2`` the variance from
  resampling only the two-identity pairs, as independent pairs. ``V - 2 V2`` is the bootstrap
  form of the dyadic-robust variance (Fafchamps & Gubert 2007). See docs/evaluation.md.
* ``"fold"``: folds are drawn with replacement.
* ``"pair"``: pairs are drawn with replacement within each class.

Every kind is stratified by label: each replicate's matched and mismatched weights are scaled
back to the protocol's class sizes, and TAR@FAR is read on the replicate's ROC polyline at the
operating FAR of the point estimate (so a replicate with a few more or fewer mismatched pairs
does not jump to a different number of allowed false accepts).

A replicate is a vector of weights; the pairs are grouped once into (fold, label, score bin)
cells (:mod:`facemetric.verify.binned`), so its figures come from weighted histograms. Point
estimates never use bins; replicates are shifted by the difference between the exact and the
binned point estimate (zero when every distinct score has its own bin).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from facemetric.errors import ConfigError, InputError
from facemetric.verify.accuracy import FoldPlan, check_folds
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
from facemetric.verify.replicates import (
    ATOM_BLOCK,
    CHUNK_CELLS,
    METRIC_KEYS,
    QuietEmptyMeans,
    ReplicatePlan,
    point_figures,
    unit_draws,
)
from facemetric.verify.units import ResamplingUnits, resampling_units

CURVE_METRICS = ("auc", "eer")


def check_n_bootstrap(n_bootstrap: int) -> int:
    if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
        raise ConfigError(f"The 'n_bootstrap' parameter must be an int >= 0. Got {n_bootstrap!r} instead.")
    return int(n_bootstrap)


def check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"The 'confidence' parameter must be in (0, 1). Got {confidence!r} instead.")
    return float(confidence)


def replicate_weights(n: int, n_bootstrap: int, seed: int | np.random.Generator) -> Iterator[np.ndarray]:
    """Yield ``n_bootstrap`` count vectors: how often each of ``n`` units is drawn (``n`` draws)."""
    rng = np.random.default_rng(seed)
    for _ in range(n_bootstrap):
        yield unit_draws(rng, n, 1)[:, 0]


def curve_metrics(scores: SortedScores, weights: np.ndarray | None, fars: Iterable[float]) -> dict[str, Any]:
    """AUC, EER and TAR@FAR of the (weighted) pairs, exactly; NaN when a class has no weight."""
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


def operating_fars(scores: SortedScores, fars: tuple[float, ...]) -> np.ndarray:
    """The FPR at which each TAR@FAR point estimate is read (NaN where the FAR is not measurable)."""
    fpr, _, n_neg = scores.rates()
    out = np.full(len(fars), np.nan)
    for j, far in enumerate(fars):
        if far * n_neg >= 1.0 - 1e-9:
            out[j] = fpr[np.count_nonzero(fpr <= far * (1.0 + 1e-12)) - 1]
    return out


def percentile_ci(values: np.ndarray, confidence: float) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (float("nan"), float("nan"))
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(values, [alpha, 1.0 - alpha])
    return (float(lo), float(hi))


def _stack(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts], axis=-1) for k in METRIC_KEYS}


@dataclass
class Replicates:
    """Per system and metric: replicate values ``T*`` (already shifted and, for identities,
    shrunk), so that percentile intervals can be read directly."""

    values: list[dict[str, np.ndarray]]
    shrink: dict[str, np.ndarray]  # variance factor applied, per metric (1 when none)


def run_replicates(
    plan: ReplicatePlan,
    *,
    n_bootstrap: int,
    seed: int,
    far_points: list[np.ndarray],
    exact: list[dict[str, np.ndarray]],
    combine: Callable[[list[dict[str, np.ndarray]]], list[dict[str, np.ndarray]]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Replicates:
    """Draw ``n_bootstrap`` replicates and return their figures per system.

    ``exact`` holds each system's exact point estimates (same keys as the figures); replicates
    are shifted by ``exact - binned point``. ``combine`` maps per-system figures to the
    statistics of interest (e.g. a paired difference) before the identity shrinkage.
    """
    rng = np.random.default_rng(seed)
    kind = plan.units.kind
    n_sys = len(plan.systems)
    main: list[list[dict[str, np.ndarray]]] = [[] for _ in range(n_sys)]
    second: list[list[dict[str, np.ndarray]]] = [[] for _ in range(n_sys)]
    dyadic = kind == "identity" and bool(np.any(plan.cell_atoms.two))
    rng2 = np.random.default_rng([seed, 1]) if dyadic else None
    n_atoms = min(max(plan.cell_atoms.count.size, 0 if plan.unit_atoms is None else plan.unit_atoms.count.size),
                  ATOM_BLOCK)
    n_cells = max(2 * plan.n_folds * b.n_bins for b in plan.bins)
    chunk = int(np.clip(CHUNK_CELLS // max(n_atoms, n_cells, 1), 1, 64))
    done = 0
    while done < n_bootstrap:
        r = min(chunk, n_bootstrap - done)
        if kind == "pair":
            w = plan.pair_weights(rng, r, only_two=False)
            hists = [plan.histogram(plan.cell_atoms, w, s) for s in range(n_sys)]
        else:
            draws = unit_draws(rng, plan.units.n_units, r)
            hists = [plan.unit_histogram(draws, s) for s in range(n_sys)]
        for s in range(n_sys):
            main[s].append(plan.figures(hists[s], s, far_points[s]))
        if dyadic:
            w2 = plan.pair_weights(rng2, r, only_two=True)
            for s in range(n_sys):
                second[s].append(plan.figures(plan.histogram(plan.cell_atoms, w2, s), s, far_points[s]))
        done += r
        if progress is not None:
            for _ in range(r):
                progress(1)
    points = [point_figures(plan, s, far_points[s]) for s in range(n_sys)]
    centre = [{k: exact[s][k] - points[s][k][..., 0] for k in METRIC_KEYS} for s in range(n_sys)]
    main_v = [_stack(m) for m in main]
    dev = [{k: main_v[s][k] - points[s][k] for k in METRIC_KEYS} for s in range(n_sys)]
    if combine is not None:
        dev = combine(dev)
    shrink = {k: np.ones(np.shape(dev[0][k])[:-1]) for k in METRIC_KEYS}
    if dyadic:
        sec_v = [_stack(m) for m in second]
        dev2 = [{k: sec_v[s][k] - points[s][k] for k in METRIC_KEYS} for s in range(n_sys)]
        if combine is not None:
            dev2 = combine(dev2)
        for k in METRIC_KEYS:
            with np.errstate(invalid="ignore", divide="ignore"), QuietEmptyMeans():
                v_main = np.nanvar(np.stack([d[k] for d in dev]), axis=-1)
                v_two = np.nanvar(np.stack([d[k] for d in dev2]), axis=-1)
                factor = np.maximum(v_main - 2.0 * v_two, v_two) / v_main
            factor = np.where(np.isfinite(factor), np.minimum(factor, 1.0), 1.0)
            shrink[k] = factor[0]
            for s, d in enumerate(dev):
                f = factor[s]
                d[k] = d[k] * (np.sqrt(f)[..., None] if np.ndim(f) else np.sqrt(f))
    if combine is not None:
        return Replicates(values=dev, shrink=shrink)
    values = [{k: centre[s][k][..., None] + points[s][k] + dev[s][k] for k in METRIC_KEYS} for s in range(n_sys)]
    return Replicates(values=values, shrink=shrink)


# --------------------------------------------------------------------------------------------
# Public functions


@dataclass(frozen=True)
class BootstrapResult:
    """Percentile intervals and how they were made."""

    cis: dict[str, Any]
    units: ResamplingUnits
    shrink: dict[str, Any]


def exact_figures(scores: SortedScores, plan_folds: FoldPlan | None, fars: tuple[float, ...]) -> dict[str, np.ndarray]:
    m = curve_metrics(scores, None, fars)
    acc = np.nan
    if plan_folds is not None:
        accs, _ = plan_folds.evaluate()
        with QuietEmptyMeans():
            acc = float(np.nanmean(accs))
    return {
        "auc": np.asarray(m["auc"]),
        "eer": np.asarray(m["eer"]),
        "tar": np.array([m["tar_at_far"][f] for f in fars]),
        "accuracy": np.asarray(acc),
    }


def bootstrap_from_plans(
    scores: SortedScores,
    plan: FoldPlan | None,
    *,
    n_bootstrap: int,
    seed: int,
    fars: Iterable[float],
    confidence: float,
    units: ResamplingUnits | None = None,
    exact: dict[str, np.ndarray] | None = None,
    progress: Callable[[int], None] | None = None,
) -> BootstrapResult:
    """:func:`bootstrap_cis` on pairs already sorted (shared with the point estimates).

    ``plan`` gives the folds of the k-fold accuracy (None: no accuracy interval); ``exact`` the
    point estimates if already computed (see :func:`exact_figures`). ``progress(1)`` is called
    after each replicate.
    """
    fars = tuple(float(f) for f in fars)
    y = scores.y
    units = units if units is not None else resampling_units(y.size)
    folds = plan.folds if plan is not None else np.zeros(y.size, dtype=np.int64)
    rp = ReplicatePlan.build([scores], folds, units)
    exact = [exact if exact is not None else exact_figures(scores, plan, fars)]
    far_points = [operating_fars(scores, fars)]
    reps = run_replicates(
        rp, n_bootstrap=n_bootstrap, seed=seed, far_points=far_points, exact=exact, progress=progress
    )
    v = reps.values[0]
    cis: dict[str, Any] = {
        "auc": percentile_ci(v["auc"], confidence),
        "eer": percentile_ci(v["eer"], confidence),
        "tar_at_far": {f: percentile_ci(v["tar"][j], confidence) for j, f in enumerate(fars)},
    }
    if plan is not None:
        cis["accuracy"] = percentile_ci(v["accuracy"], confidence)
    shrink = {
        "auc": float(reps.shrink["auc"]),
        "eer": float(reps.shrink["eer"]),
        "tar_at_far": {f: float(reps.shrink["tar"][j]) for j, f in enumerate(fars)},
    }
    if plan is not None:
        shrink["accuracy"] = float(reps.shrink["accuracy"])
    return BootstrapResult(cis=cis, units=units, shrink=shrink)


def bootstrap_cis(
    y_true: Any,
    y_score: Any,
    folds: np.ndarray | None = None,
    *,
    groups: Any = None,
    resample: str = "auto",
    n_bootstrap: int = 1000,
    seed: int = 0,
    fars: Iterable[float] = DEFAULT_FARS,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Percentile CIs of AUC, EER, TAR@FAR and (with folds) k-fold accuracy.

    ``groups=(id_a, id_b)`` gives the identities of both sides of every pair; with it the
    default ``resample="auto"`` resamples identities, without it pairs (see
    :mod:`facemetric.verify.units`). Returns
    ``{"auc": (lo, hi), "eer": ..., "accuracy": ..., "tar_at_far": {far: (lo, hi)}}``.
    """
    n_bootstrap = check_n_bootstrap(n_bootstrap)
    confidence = check_confidence(confidence)
    y, s = check_scores(y_true, y_score)
    fars = check_fars(fars)
    scores = SortedScores(y, s)
    plan = None if folds is None else FoldPlan(scores, check_folds(folds, y.size))
    units = resampling_units(y.size, groups=groups, folds=folds, resample=resample)
    return bootstrap_from_plans(
        scores, plan, n_bootstrap=n_bootstrap, seed=seed, fars=fars, confidence=confidence, units=units
    ).cis


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
    resample: str = "pair"
    n_units: int = 0
    p_value_floor: float = 0.0

    @property
    def at_floor(self) -> bool:
        """No replicate was as extreme as the observed difference: the p-value is its floor."""
        return self.p_value <= self.p_value_floor * (1.0 + 1e-9)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value_a": self.value_a,
            "value_b": self.value_b,
            "difference": self.difference,
            "ci": list(self.ci),
            "p_value": self.p_value,
            "p_value_floor": self.p_value_floor,
            "n_bootstrap": self.n_bootstrap,
            "seed": self.seed,
            "resample": self.resample,
            "n_resample_units": self.n_units,
        }


def _metric_name(metric: str) -> tuple[str, float | None]:
    if metric.startswith("tar@"):
        try:
            far = float(metric[4:])
        except ValueError:
            raise ConfigError(
                f"The 'metric' parameter of paired_test got {metric!r}; write e.g. 'tar@1e-3'"
            ) from None
        return "tar", check_fars((far,))[0]
    if metric not in CURVE_METRICS:
        raise ConfigError(
            f"The 'metric' parameter of paired_test must be 'auc', 'eer' or 'tar@<far>'. Got {metric!r} instead."
        )
    return metric, None


def paired_test(
    y_true: Any,
    score_a: Any,
    score_b: Any,
    *,
    metric: str = "auc",
    groups: Any = None,
    folds: Any = None,
    resample: str = "auto",
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> PairedTestResult:
    """Paired bootstrap test of ``metric(a) - metric(b)`` (``metric`` is "auc", "eer" or a FAR key
    such as "tar@1e-3").

    Both systems are reweighted with the same draws in every replicate (identities with
    ``groups=(id_a, id_b)``, else pairs; ``resample`` as in :func:`bootstrap_cis`). The
    two-sided p-value is that of the null-centred bootstrap: the share of replicates whose
    difference lies at least as far from the observed one as the observed one lies from zero,
    counted as ``(1 + extreme) / (1 + replicates)``, so it is never below ``p_value_floor``.
    """
    n_bootstrap = check_n_bootstrap(n_bootstrap)
    if n_bootstrap < 1:
        raise ConfigError("The 'n_bootstrap' parameter of paired_test must be >= 1. Got 0 instead.")
    confidence = check_confidence(confidence)
    y, sa = check_scores(y_true, score_a)
    _, sb = check_scores(y_true, score_b)
    if sa.size != sb.size:
        raise InputError(f"score_a has {sa.size} scores but score_b has {sb.size}; score the same pairs")
    key, far = _metric_name(metric)
    fars = () if far is None else (far,)
    systems = [SortedScores(y, sa), SortedScores(y, sb)]
    units = resampling_units(y.size, groups=groups, folds=folds, resample=resample)
    exact = [exact_figures(s, None, fars) for s in systems]
    far_points = [operating_fars(s, fars) for s in systems]
    va, vb = (float(e[key][0]) if key == "tar" else float(e[key]) for e in exact)
    diff = va - vb
    rp = ReplicatePlan.build(systems, np.zeros(y.size, dtype=np.int64), units)

    def difference(dev: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
        return [{k: dev[0][k] - dev[1][k] for k in METRIC_KEYS}]

    reps = run_replicates(
        rp, n_bootstrap=n_bootstrap, seed=seed, far_points=far_points, exact=exact, combine=difference
    )
    d = reps.values[0][key]
    d = (d[0] if key == "tar" else d) + diff  # replicate differences around the observed one
    d = d[np.isfinite(d)]
    extreme = np.count_nonzero(np.abs(d - diff) >= abs(diff) - 1e-15)
    p_value = (1 + extreme) / (1 + d.size)
    name = metric if far is None else f"tar@{far_key(far)}"
    return PairedTestResult(
        metric=name,
        value_a=va,
        value_b=vb,
        difference=float(diff),
        ci=percentile_ci(d, confidence),
        p_value=float(min(1.0, p_value)),
        n_bootstrap=n_bootstrap,
        seed=seed,
        resample=units.kind,
        n_units=units.n_units,
        p_value_floor=1.0 / (1 + d.size),
    )
