"""ROC and DET curves, ROC-AUC, EER and TAR@FAR from one shared core.

Conventions: ``y_true`` is 1 for "same person" and 0 otherwise; a higher ``y_score``
always means "same person". A pair is accepted at threshold ``t`` when ``score >= t``.
Every function accepts optional ``sample_weight`` (used by the bootstrap).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from facemetric.errors import InputError

DEFAULT_FARS: tuple[float, ...] = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


def check_scores(y_true: Any, y_score: Any, sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and scores: same length, non-empty, labels in {0, 1}, finite scores."""
    y = np.asarray(y_true)
    s = np.asarray(y_score)
    if y.ndim != 1 or s.ndim != 1:
        raise InputError(f"labels and scores must be 1-D; got shapes {y.shape} and {s.shape}")
    if y.shape != s.shape:
        raise InputError(f"{y.size} labels but {s.size} scores; give one score per pair")
    if y.size == 0:
        raise InputError("the protocol is empty: there are no pairs to evaluate")
    if not np.isin(y, (0, 1)).all():
        raise InputError("labels must be 0 (different people) or 1 (same person)")
    if not np.issubdtype(s.dtype, np.number):
        raise InputError(f"scores must be numeric; got dtype {s.dtype}")
    s = np.asarray(s, dtype=np.float64)  # no copy when already float64
    if not np.isfinite(s).all():
        bad = np.flatnonzero(~np.isfinite(s))
        raise InputError(
            f"{bad.size} score(s) are NaN or inf (first at pair {bad[0]}); check the descriptors"
        )
    y = y.astype(np.int8, copy=False)
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.size:
        which = "same-person (1)" if n_pos else "different-person (0)"
        raise InputError(
            f"all {y.size} labels are {which}; verification needs both matched and mismatched pairs"
        )
    if sample_weight is not None and np.shape(sample_weight) != y.shape:
        raise InputError(f"{y.size} pairs but {np.size(sample_weight)} sample weights")
    return y, s


def tie_ends(s_sorted: np.ndarray) -> np.ndarray:
    """Index of the last element of each run of equal scores (scores sorted decreasing)."""
    n = s_sorted.size
    neq = s_sorted[1:] != s_sorted[:-1]
    ends = np.empty(int(np.count_nonzero(neq)) + 1, dtype=np.int64)
    ends[:-1] = np.flatnonzero(neq)
    ends[-1] = n - 1
    return ends


def sorted_counts(
    y_sorted: np.ndarray, s_sorted: np.ndarray, w_sorted: np.ndarray | None = None, *, thresholds: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Core on scores already sorted in decreasing order.

    Returns ``(fps, tps, thresholds)``: at ``thresholds[i]`` (distinct scores, decreasing)
    ``tps[i]`` positives and ``fps[i]`` negatives have ``score >= thresholds[i]``.
    Counts are integers unless ``w_sorted`` holds float weights. Written to keep few
    temporaries alive: with 10 million pairs each array is 80 MB.
    """
    ends = tie_ends(s_sorted)
    thr = s_sorted[ends] if thresholds else None
    if w_sorted is None:
        tps = np.cumsum(y_sorted, dtype=np.int64)[ends]
        ends += 1
        ends -= tps  # reuse the buffer: fps = (number accepted) - tps
        return ends, tps, thr
    dtype = np.float64 if np.issubdtype(np.asarray(w_sorted).dtype, np.floating) else np.int64
    tps = np.cumsum(y_sorted * w_sorted, dtype=dtype)[ends]
    fps = np.cumsum(w_sorted, dtype=dtype)[ends]
    fps -= tps
    return fps, tps, thr


class SortedScores:
    """Labels and scores sorted once (decreasing score); every curve, fold and bootstrap replicate
    reuses this order, so a re-evaluation under pair weights costs O(n) and no sort."""

    def __init__(self, y: np.ndarray, s: np.ndarray) -> None:
        self.y = y
        self.s = s
        self.order = np.argsort(s, kind="stable")[::-1].copy()
        self.y_sorted = y[self.order]
        self.s_sorted = s[self.order]

    def rates(self, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float] | None:
        """``(fpr, tpr, n_neg)`` with the (0, 0) point first; None when a class has no weight."""
        w = None if weights is None else weights[self.order]
        fps, tps, _ = sorted_counts(self.y_sorted, self.s_sorted, w, thresholds=False)
        n_neg, n_pos = float(fps[-1]), float(tps[-1])
        if n_neg <= 0 or n_pos <= 0:
            return None
        fpr = np.empty(fps.size + 1)
        fpr[0] = 0.0
        np.divide(fps, n_neg, out=fpr[1:])
        del fps
        tpr = np.empty(tps.size + 1)
        tpr[0] = 0.0
        np.divide(tps, n_pos, out=tpr[1:])
        return fpr, tpr, n_neg


def binary_counts(
    y_true: Any, y_score: Any, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shared core of every curve: ``(fps, tps, thresholds)`` at each distinct score."""
    y, s = check_scores(y_true, y_score, sample_weight)
    order = np.argsort(s, kind="stable")[::-1]
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[order]
    return sorted_counts(y[order], s[order], w)


def rates(fps: np.ndarray, tps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FPR and TPR from cumulative counts, starting at the point (0, 0)."""
    n_neg, n_pos = fps[-1], tps[-1]
    if n_neg <= 0 or n_pos <= 0:
        raise InputError("verification needs both matched and mismatched pairs (one class has no weight)")
    fpr = np.r_[0.0, fps / n_neg]
    tpr = np.r_[0.0, tps / n_pos]
    return fpr, tpr


def roc_curve(
    y_true: Any, y_score: Any, *, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, tpr, thresholds)`` with thresholds decreasing; the first point is (0, 0) at +inf."""
    fps, tps, thr = binary_counts(y_true, y_score, sample_weight)
    fpr, tpr = rates(fps, tps)
    return fpr, tpr, np.r_[np.inf, thr]


def det_curve(
    y_true: Any, y_score: Any, *, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, fnr, thresholds)`` at every distinct score, thresholds decreasing (FNR = 1 - TPR)."""
    fps, tps, thr = binary_counts(y_true, y_score, sample_weight)
    fpr, tpr = rates(fps, tps)
    return fpr[1:], 1.0 - tpr[1:], thr


def auc_from_rates(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Trapezoidal area; tied scores form one diagonal step, i.e. they count one half."""
    return float(np.trapezoid(tpr, fpr))


def eer_from_rates(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Equal error rate: where the ROC polyline crosses FPR = FNR, by linear interpolation."""
    fnr = 1.0 - tpr
    i = int(np.argmax(fpr >= fnr))  # first point at or past the crossing; fpr[0]=0 < fnr[0]=1
    d0 = fnr[i - 1] - fpr[i - 1]
    d1 = fnr[i] - fpr[i]
    t = d0 / (d0 - d1) if d0 != d1 else 0.0
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


def tar_from_rates(
    fpr: np.ndarray, tpr: np.ndarray, n_neg: float, fars: Iterable[float]
) -> dict[float, float]:
    """Highest TPR with FPR <= far; NaN where ``far`` is below one false accept (1 / n_neg)."""
    out: dict[float, float] = {}
    for far in fars:
        far = float(far)
        if far * n_neg < 1.0 - 1e-9:
            out[far] = float("nan")
            continue
        ok = fpr <= far * (1.0 + 1e-12)
        out[far] = float(tpr[ok].max())
    return out


def roc_auc(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """Area under the ROC curve (the hackathon score); ties count one half."""
    fpr, tpr, _ = roc_curve(y_true, y_score, sample_weight=sample_weight)
    return auc_from_rates(fpr, tpr)


def eer(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """Equal error rate, interpolated on the ROC polyline."""
    fpr, tpr, _ = roc_curve(y_true, y_score, sample_weight=sample_weight)
    return eer_from_rates(fpr, tpr)


def tar_at_far(
    y_true: Any, y_score: Any, fars: Iterable[float] = DEFAULT_FARS, *, sample_weight: Any = None
) -> dict[float, float]:
    """TAR at each FAR target: the highest TPR whose FPR is <= the target (never the nearest FPR).

    NaN where the target is below 1 / n_negatives: the protocol cannot measure it.
    """
    fars = check_fars(fars)
    fps, tps, _ = binary_counts(y_true, y_score, sample_weight)
    fpr, tpr = rates(fps, tps)
    return tar_from_rates(fpr, tpr, float(fps[-1]), fars)


def check_fars(fars: Iterable[float]) -> tuple[float, ...]:
    """FAR targets as floats in (0, 1], or the standard parameter error."""
    fars = tuple(fars)
    for far in fars:
        if not isinstance(far, (int, float, np.number)) or not 0.0 < float(far) <= 1.0:
            raise InputError(f"The 'fars' parameter must hold values in (0, 1]. Got {far!r} instead.")
    return tuple(float(f) for f in fars)


def far_key(far: float) -> str:
    """JSON key of a FAR target: 1e-3 -> "1e-3", 0.05 -> "5e-2"."""
    mantissa, exponent = f"{float(far):e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"
