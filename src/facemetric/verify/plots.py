"""ROC and DET plots. The Display classes hold arrays; matplotlib is imported only in ``plot``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.io.atomic import atomic_path
from facemetric.verify.curves import det_curve, roc_auc, roc_curve


def pyplot():
    """matplotlib's pyplot on the Agg backend, imported on first use."""
    from facemetric.errors import require

    matplotlib = require("matplotlib", "core")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_pyplot = pyplot


MAX_PLOT_POINTS = 4000


def thin(
    fpr: np.ndarray, other: np.ndarray, max_points: int = MAX_PLOT_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """Keep at most about ``max_points`` points, spread evenly in log FPR (for curves of millions of pairs)."""
    if fpr.size <= max_points:
        return fpr, other
    targets = np.logspace(np.log10(max(fpr[fpr > 0].min(), 1e-12)), 0.0, max_points)
    idx = np.unique(np.r_[0, np.searchsorted(fpr, targets, side="right") - 1, fpr.size - 1])
    return fpr[idx], other[idx]


@dataclass
class RocDisplay:
    """ROC curve of one system (FPR on a log axis: the interesting range is low FAR)."""

    fpr: np.ndarray
    tpr: np.ndarray
    name: str = "system"
    auc: float | None = None

    @classmethod
    def from_scores(cls, y_true: Any, y_score: Any, name: str = "system") -> RocDisplay:
        fpr, tpr, _ = roc_curve(y_true, y_score)
        auc = roc_auc(y_true, y_score)
        fpr, tpr = thin(fpr, tpr)
        return cls(fpr=fpr, tpr=tpr, name=name, auc=auc)

    def plot(self, ax: Any = None) -> RocDisplay:
        if ax is None:
            ax = _pyplot().subplots()[1]
        label = self.name if self.auc is None else f"{self.name} (AUC {self.auc:.4f})"
        keep = self.fpr > 0
        ax.plot(self.fpr[keep], self.tpr[keep], label=label)
        ax.set_xscale("log")
        ax.set_xlabel("false accept rate (FPR)")
        ax.set_ylabel("true accept rate (TPR)")
        if not ax.get_title():
            ax.set_title("ROC")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right")
        self.ax_ = ax
        return self


#: Candidate DET ticks, 1-2-5 per decade, from 1e-6 to 50%.
DET_TICKS = np.array([m * 10.0 ** e for e in range(-6, 0) for m in (1, 2, 5)] + [0.2, 0.5])
DET_TOP = 0.5  # DET plots show error rates up to 50%


def det_ticks(lo: float, hi: float, max_ticks: int = 9) -> np.ndarray:
    """Ticks for a DET axis spanning [lo, hi]: the 1-2-5 sequence, thinned to decades when crowded."""
    inside = DET_TICKS[(DET_TICKS >= lo * (1 - 1e-9)) & (DET_TICKS <= hi * (1 + 1e-9))]
    if inside.size > max_ticks:
        decades = inside[np.isclose(np.log10(inside) % 1, 0) | np.isclose(inside, 0.5)]
        inside = decades if decades.size >= 2 else inside
    return np.unique(inside)


def _percent(t: float) -> str:
    return f"{100 * t:g}%"


@dataclass
class DetDisplay:
    """DET curve of one system: FPR against FNR on normal-deviate axes.

    A rate of 0 cannot sit on a normal-deviate axis: it is drawn at the smallest rate the pairs can
    measure (1 / number of negatives for FPR, 1 / number of positives for FNR), which is also where
    the axes start, so a near-perfect system reads as a curve along the bottom and left edges.
    """

    fpr: np.ndarray
    fnr: np.ndarray
    name: str = "system"
    n_pos: int | None = None
    n_neg: int | None = None

    @classmethod
    def from_scores(cls, y_true: Any, y_score: Any, name: str = "system") -> DetDisplay:
        fpr, fnr, _ = det_curve(y_true, y_score)
        fpr, fnr = thin(fpr, fnr)
        y = np.asarray(y_true)
        return cls(fpr=fpr, fnr=fnr, name=name, n_pos=int((y == 1).sum()), n_neg=int((y == 0).sum()))

    def floors(self) -> tuple[float, float]:
        """(FPR floor, FNR floor): the smallest non-zero rate each axis can show for these pairs."""
        def floor(rates: np.ndarray, n: int | None) -> float:
            if n:
                return 1.0 / n
            positive = rates[rates > 0]
            return float(positive.min()) if positive.size else 1e-3

        return floor(self.fpr, self.n_neg), floor(self.fnr, self.n_pos)

    def plot(self, ax: Any = None) -> DetDisplay:
        from scipy.stats import norm

        if ax is None:
            ax = _pyplot().subplots()[1]
        fx, fy = self.floors()
        keep = (self.fpr < 1) & (self.fnr < 1)
        x = np.clip(self.fpr[keep], fx, None)
        y = np.clip(self.fnr[keep], fy, None)
        ax.plot(norm.ppf(x), norm.ppf(y), label=self.name)
        # the axes cover every curve drawn on them so far, from the lowest floor up to 50%
        lo_x, lo_y = min(fx, getattr(ax, "_det_floor_x", 1.0)), min(fy, getattr(ax, "_det_floor_y", 1.0))
        ax._det_floor_x, ax._det_floor_y = lo_x, lo_y
        for axis, set_lim, lo in ((ax.xaxis, ax.set_xlim, lo_x), (ax.yaxis, ax.set_ylim, lo_y)):
            lo = min(lo, DET_TOP / 10)
            set_lim(norm.ppf(lo) - 0.15, norm.ppf(DET_TOP) + 0.05)
            ticks = det_ticks(lo, DET_TOP)
            axis.set_ticks(norm.ppf(ticks), [_percent(t) for t in ticks])
        ax.set_xlabel("false accept rate (FPR)")
        ax.set_ylabel("false reject rate (FNR)")
        if not ax.get_title():
            ax.set_title("DET")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right")
        self.ax_ = ax
        return self


def save_figure(fig: Any, path: str | Path) -> Path:
    """Write ``fig`` as a PNG, atomically, and close it."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    return path


_save = save_figure


def plot_title(methods: list[str] | str, protocol: str, n_pairs: int, kind: str) -> str:
    """``"ROC: cosine on pairs.txt (6000 pairs)"``; several methods read ``"ROC: 5 methods on ..."``."""
    if isinstance(methods, str):
        methods = [methods]
    who = methods[0] if len(methods) == 1 else f"{len(methods)} methods"
    return f"{kind}: {who} on {protocol} ({n_pairs} pairs)"


def _n_pairs(curves: dict[str, tuple[Any, Any]]) -> int:
    return int(len(next(iter(curves.values()))[0])) if curves else 0


def save_roc(curves: dict[str, tuple[Any, Any]], path_png: str | Path, protocol: str | None = None) -> Path:
    """One ROC figure for several systems ``{name: (y_true, y_score)}``; titled with the methods, the
    ``protocol`` name and the pair count when ``protocol`` is given."""
    fig, ax = _pyplot().subplots(figsize=(6, 5))
    if protocol is not None:
        ax.set_title(plot_title(list(curves), protocol, _n_pairs(curves), "ROC"))
    for name, (y, s) in curves.items():
        RocDisplay.from_scores(y, s, name).plot(ax)
    return _save(fig, path_png)


def save_det(curves: dict[str, tuple[Any, Any]], path_png: str | Path, protocol: str | None = None) -> Path:
    """One DET figure for several systems ``{name: (y_true, y_score)}`` (titled as :func:`save_roc`)."""
    fig, ax = _pyplot().subplots(figsize=(6, 5))
    if protocol is not None:
        ax.set_title(plot_title(list(curves), protocol, _n_pairs(curves), "DET"))
    for name, (y, s) in curves.items():
        DetDisplay.from_scores(y, s, name).plot(ax)
    return _save(fig, path_png)


def save_roc_det(curves: dict[str, tuple[Any, Any]], path_png: str | Path, protocol: str | None = None) -> Path:
    """ROC and DET side by side for several systems ``{name: (y_true, y_score)}`` (titled as
    :func:`save_roc`)."""
    fig, (ax_roc, ax_det) = _pyplot().subplots(1, 2, figsize=(12, 5))
    if protocol is not None:
        ax_roc.set_title(plot_title(list(curves), protocol, _n_pairs(curves), "ROC"))
        ax_det.set_title(plot_title(list(curves), protocol, _n_pairs(curves), "DET"))
    for name, (y, s) in curves.items():
        RocDisplay.from_scores(y, s, name).plot(ax_roc)
        DetDisplay.from_scores(y, s, name).plot(ax_det)
    return _save(fig, path_png)
