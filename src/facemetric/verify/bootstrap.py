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
from facemetric.verify import binned
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
from facemetric.verify.units import NO_UNIT, ResamplingUnits, resampling_units

CURVE_METRICS = ("auc", "eer")
CHUNK_CELLS = 1 << 24  # atoms x replicates held at once (128 MiB of float64)


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
        yield np.bincount(rng.integers(0, n, n), minlength=n)


def unit_draws(rng: np.random.Generator, n: int, n_rep: int) -> np.ndarray:
    """``(n, n_rep)`` counts: each column draws ``n`` of ``n`` units with replacement."""
    idx = rng.integers(0, n, (n_rep, n))
    idx += (np.arange(n_rep) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=n_rep * n).reshape(n_rep, n).T


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


# --------------------------------------------------------------------------------------------
# The replicate engine


def _compact(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group rows of integer columns: ``(first_row_of_each_group, group_of_row, counts)``, groups
    sorted by the columns in order (the first column most significant)."""
    code = np.zeros(keys[0].size, dtype=np.int64)
    total = 1
    for col in keys:
        col = col.astype(np.int64) - int(col.min()) if col.size else col.astype(np.int64)
        span = int(col.max()) + 1 if col.size else 1
        if total >= (np.iinfo(np.int64).max // span) - 1:
            _, code = np.unique(code, return_inverse=True)
            code = code.ravel()
            total = int(code.max()) + 1
        code = code * span + col
        total *= span
    if total <= 4 * code.size + 1024:  # a small key space: group by counting, no sort
        counts = np.bincount(code, minlength=total)
        present = np.flatnonzero(counts)
        lookup = np.zeros(total, dtype=np.int64)
        lookup[present] = np.arange(present.size)
        group = lookup[code]
        first = np.empty(present.size, dtype=np.int64)
        first[group[::-1]] = np.arange(code.size - 1, -1, -1)  # the last write, the first row, wins
        return first, group, counts[present]
    _, first, group, counts = np.unique(code, return_index=True, return_inverse=True, return_counts=True)
    return first, group.ravel(), counts


@dataclass
class Atoms:
    """Pairs grouped by everything a replicate can tell apart: their cells and units.

    ``cells[system]`` is each atom's (label, fold, bin) cell in that system's histogram.
    """

    cells: list[np.ndarray]
    label: np.ndarray
    count: np.ndarray  # float64
    two: np.ndarray  # the atom's pairs join two units
    atom_of_pair: np.ndarray
    ua: np.ndarray | None = None
    ub: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._cache: dict[tuple[str, int], Any] = {}

    def single_matrix(self, system: int, n_cells: int, n_units: int):
        """Sparse (cell x unit) counts of the atoms of one unit: their cell weights are ``C @ W``."""
        key = ("single", system)
        if key not in self._cache:
            from scipy.sparse import csr_matrix

            one = np.flatnonzero(~self.two)
            self._cache[key] = csr_matrix(
                (self.count[one].astype(np.float32), (self.cells[system][one], self.ua[one])),
                shape=(n_cells, n_units),
            )
        return self._cache[key]

    def dyad_blocks(self, system: int) -> list[tuple[np.ndarray, int, Any]]:
        """The atoms that join two units, in blocks of ``ATOM_BLOCK``: each block's atoms, its
        first cell and a sparse (cell x atom) matrix over the cells it touches (few for system 0:
        atoms are sorted by its cells)."""
        key = ("dyads", system)
        if key not in self._cache:
            from scipy.sparse import csr_matrix

            out = []
            two = np.flatnonzero(self.two)
            for a0 in range(0, two.size, ATOM_BLOCK):
                idx = two[a0 : a0 + ATOM_BLOCK]
                c = self.cells[system][idx]
                c0 = int(c.min())
                m = csr_matrix(
                    (self.count[idx].astype(np.float32), (c - c0, np.arange(c.size))),
                    shape=(int(c.max()) - c0 + 1, c.size),
                )
                out.append((idx, c0, m))
            self._cache[key] = out
        return self._cache[key]


ATOM_BLOCK = 1 << 20  # two-unit atoms per block of the identity pass ((ATOM_BLOCK, R) float32)


def _atoms(keys: list[np.ndarray], cells: list[np.ndarray], y: np.ndarray, two: np.ndarray,
           ua: np.ndarray | None = None, ub: np.ndarray | None = None) -> Atoms:
    first, group, counts = _compact(keys)
    return Atoms(
        cells=[c[first].astype(np.intp) for c in cells],
        label=y[first],
        count=counts.astype(np.float64),
        two=two[first],
        atom_of_pair=group.astype(np.int32),
        ua=None if ua is None else ua[first].astype(np.int32),
        ub=None if ub is None else ub[first].astype(np.int32),
    )


MAX_FOLD_BINS = 1 << 13  # bins of the k-fold threshold search in replicates (exact below this)


@dataclass(frozen=True)
class FoldBins:
    """Consecutive score bins grouped for the k-fold search: ``starts`` (first bin of each group)
    and each group's score range. One group per bin when there are at most ``MAX_FOLD_BINS``."""

    starts: np.ndarray
    hi: np.ndarray
    lo: np.ndarray

    @classmethod
    def of(cls, bins: binned.ScoreBins, max_groups: int = MAX_FOLD_BINS) -> FoldBins:
        if bins.n_bins <= max_groups:
            return cls(np.arange(bins.n_bins), bins.hi, bins.lo)
        size = np.bincount(bins.bin_sorted, minlength=bins.n_bins)
        target = np.cumsum(size) * (max_groups / bins.bin_sorted.size)
        starts = np.flatnonzero(np.r_[True, np.floor(target[1:] - 1e-9) != np.floor(target[:-1] - 1e-9)])
        ends = np.r_[starts[1:], bins.n_bins] - 1
        return cls(starts, bins.hi[starts], bins.lo[ends])


@dataclass
class ReplicatePlan:
    """Systems scored on the same pairs, their bins and cells, and the resampling units."""

    y: np.ndarray
    n_folds: int
    systems: list[SortedScores]
    bins: list[binned.ScoreBins]
    fold_bins: list[FoldBins]
    units: ResamplingUnits
    unit_atoms: Atoms | None = None
    cell_atoms: Atoms | None = None

    @classmethod
    def build(
        cls,
        systems: list[SortedScores],
        fold_index: np.ndarray,
        units: ResamplingUnits,
        max_bins: int = binned.MAX_BINS,
    ) -> ReplicatePlan:
        """Bin each system once and group the pairs into atoms (cells x units)."""
        y = systems[0].y
        _, fold_index = np.unique(fold_index, return_inverse=True)
        n_folds = int(fold_index.max()) + 1
        bins = [binned.score_bins(s, max_bins) for s in systems]
        plan = cls(y, n_folds, systems, bins, [FoldBins.of(b) for b in bins], units)
        base = y.astype(np.int64) * n_folds + fold_index
        cells = []
        for i, (s, b) in enumerate(zip(systems, bins)):
            bin_of = np.empty(y.size, dtype=np.int64)
            bin_of[s.order] = b.bin_sorted if n_folds > 1 else b.run_of_bin[b.bin_sorted]
            cells.append(base * plan.n_columns(i) + bin_of)
        two = np.zeros(y.size, dtype=bool) if units.ends is None else units.ends[:, 1] != NO_UNIT
        plan.cell_atoms = _atoms([*cells, two.astype(np.int64)], cells, y, two)
        if units.ends is not None:
            ua, ub = units.ends[:, 0], units.ends[:, 1]
            plan.unit_atoms = _atoms([*cells, ua, ub], cells, y, two, ua, ub)
        return plan

    def n_columns(self, system: int) -> int:
        """Score columns of a histogram: bins (for the k-fold search), or with one fold runs."""
        b = self.bins[system]
        return b.n_bins if self.n_folds > 1 else b.n_runs

    # ---- weights of atoms, one row per replicate

    def unit_histogram(self, draws: np.ndarray, system: int) -> np.ndarray:
        """``(R, 2, n_folds, n_bins)`` cell weights of the identity resample with unit counts
        ``draws`` ``(n_units, R)``: a pair of one unit weighs ``W[a]``, a pair of two ``W[a] * W[b]``.

        Counts are small integers, exact in float32 (below 2**24 per cell and block).
        """
        atoms = self.unit_atoms
        n_bins = self.n_columns(system)
        n_cells = 2 * self.n_folds * n_bins
        n_rep = draws.shape[1]
        W = np.ascontiguousarray(draws, dtype=np.float32)
        H = np.asarray(atoms.single_matrix(system, n_cells, W.shape[0]) @ W, dtype=np.float64)
        for idx, c0, m in atoms.dyad_blocks(system):
            w = W[atoms.ua[idx]]
            w *= W[atoms.ub[idx]]
            H[c0 : c0 + m.shape[0]] += m @ w
        return np.ascontiguousarray(H.T).reshape(n_rep, 2, self.n_folds, n_bins)

    def pair_weights(self, rng: np.random.Generator, n_rep: int, only_two: bool) -> np.ndarray:
        """Atom weights ``(R, n_atoms)`` drawing pairs with replacement within each label (and, with
        ``only_two``, only the pairs that join two units; the others keep their count)."""
        atoms = self.cell_atoms
        w = np.repeat(atoms.count[None, :], n_rep, axis=0)
        for label in (0, 1):
            sel = atoms.label == label
            if only_two:
                sel &= atoms.two
            idx = np.flatnonzero(sel)
            if idx.size == 0:
                continue
            c = atoms.count[idx].astype(np.int64)
            total = int(c.sum())
            if total <= 4 * idx.size:  # few pairs per atom: draw the pairs themselves
                atom_of = np.repeat(np.arange(idx.size), c)[rng.integers(0, total, (n_rep, total))]
                atom_of += (np.arange(n_rep) * idx.size)[:, None]
                w[:, idx] = np.bincount(atom_of.ravel(), minlength=n_rep * idx.size).reshape(n_rep, -1)
            else:  # many pairs per atom: the counts per atom are multinomial
                w[:, idx] = rng.multinomial(total, c / total, size=n_rep)
        return w

    # ---- histograms and figures

    def histogram(self, atoms: Atoms, w: np.ndarray, system: int) -> np.ndarray:
        """``(R, 2, n_folds, n_columns)`` weight per (label, fold, bin) cell (``w`` is ``(R, n_atoms)``)."""
        n_bins = self.n_columns(system)
        n_cells = 2 * self.n_folds * n_bins
        cells = atoms.cells[system]
        n_rep = w.shape[0]
        if n_rep * cells.size <= CHUNK_CELLS // 8:  # small: one bincount for all replicates
            idx = cells[None, :] + (np.arange(n_rep) * n_cells)[:, None]
            H = np.bincount(idx.ravel(), weights=w.ravel(), minlength=n_rep * n_cells).reshape(n_rep, n_cells)
        else:
            H = np.empty((n_rep, n_cells))
            for r in range(n_rep):
                H[r] = np.bincount(cells, weights=w[r], minlength=n_cells)
        return H.reshape(n_rep, 2, self.n_folds, n_bins)

    def figures(self, H: np.ndarray, system: int, far_points: np.ndarray) -> dict[str, np.ndarray]:
        """AUC, EER, TAR at ``far_points`` and mean k-fold accuracy per replicate from cell weights
        ``H`` ``(R, 2, n_folds, n_bins)``, stratified: each label's weights are scaled back to its
        size in the protocol (rates do not change; the accuracy's class mix does)."""
        b = self.bins[system]
        n_rep = H.shape[0]
        if self.n_folds > 1:
            Hc = np.add.reduceat(H.sum(axis=2), b.run_starts, axis=2)  # runs are consecutive bins
        else:
            Hc = H[:, :, 0]  # one fold: the histogram is over runs already
        c = binned.curves(Hc[:, 1], Hc[:, 0])
        tar = np.full((len(far_points), n_rep), np.nan)
        for j, f in enumerate(far_points):
            if np.isfinite(f):
                tar[j] = binned.tpr_at(c, f)
        out = {"auc": binned.auc(c), "eer": binned.eer(c), "tar": tar, "accuracy": np.full(n_rep, np.nan)}
        if self.n_folds > 1:
            fb = self.fold_bins[system]
            if fb.starts.size < b.n_bins:
                H = np.add.reduceat(H, fb.starts, axis=3)
            n_pos = float(np.count_nonzero(self.y))
            n_neg = float(self.y.size) - n_pos
            with np.errstate(invalid="ignore", divide="ignore"):
                hf_pos = H[:, 1] * (n_pos / H[:, 1].sum(axis=(1, 2)))[:, None, None]
                hf_neg = H[:, 0] * (n_neg / H[:, 0].sum(axis=(1, 2)))[:, None, None]
            accs = binned.kfold_accuracy(hf_pos, hf_neg, fb.hi, fb.lo)
            with _quiet():
                out["accuracy"] = np.nanmean(accs, axis=1)
        return out


class _quiet:
    """Silence numpy's 'Mean of empty slice' (a replicate where no fold has a threshold)."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


METRIC_KEYS = ("auc", "eer", "tar", "accuracy")


def _stack(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts], axis=-1) for k in METRIC_KEYS}


def _point(plan: ReplicatePlan, system: int, far_points: np.ndarray) -> dict[str, np.ndarray]:
    """The binned figures at the protocol's own weights (a replicate of weight one everywhere)."""
    atoms = plan.cell_atoms
    return plan.figures(plan.histogram(atoms, atoms.count[None, :], system), system, far_points)


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
    points = [_point(plan, s, far_points[s]) for s in range(n_sys)]
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
            with np.errstate(invalid="ignore", divide="ignore"), _quiet():
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
        with _quiet():
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
