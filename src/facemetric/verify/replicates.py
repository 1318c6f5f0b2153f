"""The replicate engine: pairs grouped once into cells, replicate weights, histograms, figures.

A replicate only reweights pairs, so the pairs are grouped once into *atoms*: pairs that fall
in the same (label, fold, score bin) cell of every system and belong to the same unit(s).
A batch of replicates is then a weight per atom and replicate; its figures come from the
weighted cell histograms (:mod:`facemetric.verify.binned`). Shrinkage, intervals and the paired
test live in :mod:`facemetric.verify.bootstrap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from facemetric.verify import binned
from facemetric.verify.curves import SortedScores
from facemetric.verify.units import NO_UNIT, ResamplingUnits

CHUNK_CELLS = 1 << 24  # atoms (or cells) x replicates held at once (128 MiB of float64)
METRIC_KEYS = ("auc", "eer", "tar", "accuracy")


def unit_draws(rng: np.random.Generator, n: int, n_rep: int) -> np.ndarray:
    """``(n, n_rep)`` counts: each column draws ``n`` of ``n`` units with replacement."""
    idx = rng.integers(0, n, (n_rep, n))
    idx += (np.arange(n_rep) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=n_rep * n).reshape(n_rep, n).T


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
            with QuietEmptyMeans():
                out["accuracy"] = np.nanmean(accs, axis=1)
        return out


class QuietEmptyMeans:
    """Silence numpy's 'Mean of empty slice' (a replicate where no fold has a threshold)."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


METRIC_KEYS = ("auc", "eer", "tar", "accuracy")


def point_figures(plan: ReplicatePlan, system: int, far_points: np.ndarray) -> dict[str, np.ndarray]:
    """The binned figures at the protocol's own weights (a replicate of weight one everywhere)."""
    atoms = plan.cell_atoms
    return plan.figures(plan.histogram(atoms, atoms.count[None, :], system), system, far_points)
