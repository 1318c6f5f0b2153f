"""Figures from score histograms: the sufficient statistics of a bootstrap replicate.

A replicate only reweights pairs, so everything it needs is, per fold and class, the weight
that falls on each score *bin*. Bins are runs of consecutive sorted scores. With at most
``max_bins`` distinct scores every distinct score is its own bin and each replicate figure is
exact (ties count one half, as in the point estimates). Beyond that, bins follow the ranks of
each class: its most extreme scores (the low-FAR and low-FRR tails) one by one, then geometric
steps towards the middle, plus a uniform grid; point estimates never use bins.

Every function here takes weights batched over replicates: arrays ``(R, ..., n_bins)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facemetric.verify.curves import SortedScores, tie_ends

MAX_BINS = 1 << 14


@dataclass(frozen=True)
class ScoreBins:
    """Bin of each pair in decreasing-score order (non-decreasing) and each bin's score range.

    ``run_of_bin`` merges consecutive bins that hold pairs of one label only: inside such a run
    the ROC polyline is one straight (vertical or horizontal) segment, so AUC, EER and TAR
    read on runs are those read on bins, under any weights. High-AUC protocols have few runs
    (LFW View 2: 174 for 6,000 pairs). The k-fold threshold search needs the bins themselves.
    """

    bin_sorted: np.ndarray
    hi: np.ndarray
    lo: np.ndarray
    exact: bool
    run_of_bin: np.ndarray
    run_starts: np.ndarray  # first bin of each run

    @property
    def n_bins(self) -> int:
        return int(self.hi.size)

    @property
    def n_runs(self) -> int:
        return int(self.run_of_bin[-1]) + 1


def _class_rank_cuts(n_c: int, budget: int) -> np.ndarray:
    """At most ``budget`` ranks (0 = the class's highest score) after which a bin ends: the
    ``budget / 8`` most extreme scores at each end one by one, ``budget / 4`` geometric steps
    from each end towards the middle, and a uniform grid of ``budget / 4``."""
    head = max(budget // 8, 1)
    steps = max(budget // 4, 1)
    top = np.concatenate([
        np.arange(min(head, n_c)),
        np.geomspace(head, max(n_c / 2, head + 1), steps).astype(np.int64),
    ])
    grid = np.linspace(0, n_c - 1, steps).astype(np.int64)
    return np.unique(np.clip(np.concatenate([top, n_c - 1 - top, grid]), 0, n_c - 1))


def score_bins(scores: SortedScores, max_bins: int = MAX_BINS) -> ScoreBins:
    """Bins for these scores: exact (one per distinct score) when there are at most ``max_bins``."""
    s = scores.s_sorted
    ends = tie_ends(s)  # last index of each run of equal scores
    exact = ends.size <= max_bins
    if not exact:
        cuts = [ends[-1:]]
        for cls in (0, 1):
            pos = np.flatnonzero(scores.y_sorted == cls)
            ranks = _class_rank_cuts(pos.size, max_bins // 2)
            cuts.append(pos[ranks])
        wanted = np.unique(np.concatenate(cuts))
        ends = np.unique(ends[np.searchsorted(ends, wanted)])  # a bin never splits a run of ties
    starts = np.r_[0, ends[:-1] + 1]
    bin_sorted = np.zeros(s.size, dtype=np.int32)
    bin_sorted[starts[1:]] = 1
    np.cumsum(bin_sorted, out=bin_sorted)
    n_pos = np.bincount(bin_sorted, weights=scores.y_sorted, minlength=ends.size)
    size = np.diff(np.r_[-1, ends])
    kind = np.where(n_pos == 0, 0, np.where(n_pos == size, 1, 2))  # 0/1: one label only, 2: mixed
    new_run = np.r_[True, (kind[1:] != kind[:-1]) | (kind[1:] == 2)]
    run_of_bin = (np.cumsum(new_run) - 1).astype(np.int32)
    return ScoreBins(
        bin_sorted=bin_sorted,
        hi=s[starts].copy(),
        lo=s[ends].copy(),
        exact=exact,
        run_of_bin=run_of_bin,
        run_starts=np.flatnonzero(new_run),
    )


@dataclass(frozen=True)
class Curves:
    """Each replicate's ROC at the bin ends: ``tpr[r, k]`` and ``fpr[r, k]`` accept bins ``0..k``
    (the origin, accepting nothing, is implicit). NaN where a class has no weight."""

    tpr: np.ndarray
    fpr: np.ndarray
    h_pos: np.ndarray
    h_neg: np.ndarray


def curves(h_pos: np.ndarray, h_neg: np.ndarray) -> Curves:
    """Cumulative rates from class histograms ``(R, n_bins)``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        h_pos = h_pos / h_pos.sum(axis=1, keepdims=True)
        h_neg = h_neg / h_neg.sum(axis=1, keepdims=True)
    return Curves(np.cumsum(h_pos, axis=1), np.cumsum(h_neg, axis=1), h_pos, h_neg)


def auc(c: Curves) -> np.ndarray:
    """Trapezoidal area per replicate: a bin's matched and mismatched pairs tie (count one half)."""
    return np.einsum("rk,rk->r", c.h_neg, c.tpr - 0.5 * c.h_pos)


def _at(a: np.ndarray, k: np.ndarray, rows: np.ndarray, origin: float) -> np.ndarray:
    """``a[r, k - 1]`` per replicate, reading ``origin`` at ``k == 0`` (the point before bin 0)."""
    return np.where(k > 0, a[rows, np.maximum(k - 1, 0)], origin)


def eer(c: Curves) -> np.ndarray:
    """Where each replicate's ROC polyline crosses FPR = FNR (linear interpolation)."""
    rows = np.arange(c.tpr.shape[0])
    k = np.argmax(c.fpr >= 1.0 - c.tpr, axis=1)  # first bin end at or past the crossing
    f1, n1 = c.fpr[rows, k], 1.0 - c.tpr[rows, k]
    f0, n0 = _at(c.fpr, k, rows, 0.0), 1.0 - _at(c.tpr, k, rows, 0.0)
    d0, d1 = n0 - f0, n1 - f1
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(d0 != d1, d0 / (d0 - d1), 0.0)
    return f0 + t * (f1 - f0)


def tpr_at(c: Curves, target: float) -> np.ndarray:
    """The ROC polyline's TPR at FPR = ``target``: the highest point there, then linear."""
    rows = np.arange(c.tpr.shape[0])
    n = c.fpr.shape[1]
    j = np.count_nonzero(c.fpr <= target * (1.0 + 1e-12), axis=1)  # points at or below, origin aside
    f0, t0 = _at(c.fpr, j, rows, 0.0), _at(c.tpr, j, rows, 0.0)
    k = np.minimum(j, n - 1)
    f1, t1 = c.fpr[rows, k], c.tpr[rows, k]
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.where(f1 > f0, (target - f0) / (f1 - f0), 0.0)
    return t0 + np.clip(step, 0.0, 1.0) * (t1 - t0)


def _next_nonzero(mask: np.ndarray) -> np.ndarray:
    """For each bin ``k``, the first bin ``j > k`` where ``mask`` holds (``n`` if none), per replicate."""
    n = mask.shape[1]
    idx = np.where(mask, np.arange(n), n)
    nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]
    return np.concatenate([nxt[:, 1:], np.full((mask.shape[0], 1), n)], axis=1)


def kfold_accuracy(hf_pos: np.ndarray, hf_neg: np.ndarray, bin_hi: np.ndarray, bin_lo: np.ndarray) -> np.ndarray:
    """Per-fold accuracy ``(R, n_folds)`` from fold histograms ``(R, n_folds, n_bins)``; bins run
    from high to low scores, bin ``k`` spanning ``[bin_lo[k], bin_hi[k]]``.

    The rule of :mod:`facemetric.verify.accuracy`: each fold's threshold maximises the
    accuracy on the other folds (the strictest of equally good ones), at the midpoint between
    the two neighbouring training scores; pairs with ``score >= threshold`` are accepted.
    NaN where the training folds lack a class or the fold has no weight.
    """
    tot_pos, tot_neg = hf_pos.sum(axis=1), hf_neg.sum(axis=1)
    n_rep, n_folds, n_bins = hf_pos.shape
    rows = np.arange(n_rep)
    lo = np.r_[bin_lo, -np.inf]
    hi = np.r_[bin_hi, -np.inf]
    zero = np.zeros((n_rep, n_folds, 1))
    cp = np.concatenate([zero, np.cumsum(hf_pos, axis=2)], axis=2)  # test weight accepted, per cut
    cn = np.concatenate([zero, np.cumsum(hf_neg, axis=2)], axis=2)
    out = np.full((n_rep, n_folds), np.nan)
    for f in range(n_folds):
        tr_pos, tr_neg = tot_pos - hf_pos[:, f], tot_neg - hf_neg[:, f]  # exactly 0 where only fold f has weight
        gain = np.cumsum(tr_pos - tr_neg, axis=1)
        best = np.argmax(gain, axis=1)
        nothing = gain[rows, best] <= 0
        nxt = _next_nonzero((tr_pos + tr_neg) > 0)[rows, best]
        above, below = lo[best], hi[nxt]  # lowest accepted and highest rejected training score
        t = 0.5 * (above + below)
        t = np.where(t <= below, above, t)  # neighbouring floats: keep the higher score
        t = np.where(nxt >= n_bins, -np.inf, t)
        t = np.where(nothing, np.inf, t)
        # accepted bins: those whose lowest score is >= t (bins run from high to low scores)
        n_acc = np.searchsorted(-bin_lo, -t, side="right")
        p_f, n_f = cp[:, f, -1], cn[:, f, -1]
        correct = cp[rows, f, n_acc] + (n_f - cn[rows, f, n_acc])
        ok = (tr_pos.sum(axis=1) > 0) & (tr_neg.sum(axis=1) > 0) & (p_f + n_f > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, f] = np.where(ok, correct / (p_f + n_f), np.nan)
    return out
