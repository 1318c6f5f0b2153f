"""ROC and DET plots. The Display classes hold arrays; matplotlib is imported only in ``plot``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.io.atomic import atomic_path
from facemetric.verify.curves import det_curve, roc_auc, roc_curve


def _pyplot():
    from facemetric.errors import require

    matplotlib = require("matplotlib", "core")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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
        ax.set_title("ROC")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right")
        self.ax_ = ax
        return self


@dataclass
class DetDisplay:
    """DET curve of one system: FPR against FNR on normal-deviate axes."""

    fpr: np.ndarray
    fnr: np.ndarray
    name: str = "system"

    @classmethod
    def from_scores(cls, y_true: Any, y_score: Any, name: str = "system") -> DetDisplay:
        fpr, fnr, _ = det_curve(y_true, y_score)
        fpr, fnr = thin(fpr, fnr)
        return cls(fpr=fpr, fnr=fnr, name=name)

    def plot(self, ax: Any = None) -> DetDisplay:
        from scipy.stats import norm

        if ax is None:
            ax = _pyplot().subplots()[1]
        keep = (self.fpr > 0) & (self.fpr < 1) & (self.fnr > 0) & (self.fnr < 1)
        ax.plot(norm.ppf(self.fpr[keep]), norm.ppf(self.fnr[keep]), label=self.name)
        ticks = np.array([1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99])
        labels = [f"{100 * t:g}%" for t in ticks]
        for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            inside = (norm.ppf(ticks) >= lo) & (norm.ppf(ticks) <= hi)  # the range of every curve drawn
            axis.set_ticks(norm.ppf(ticks[inside]), [lab for lab, i in zip(labels, inside) if i])
        ax.set_xlabel("false accept rate (FPR)")
        ax.set_ylabel("false reject rate (FNR)")
        ax.set_title("DET")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right")
        self.ax_ = ax
        return self


def _save(fig: Any, path: Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def save_roc(curves: dict[str, tuple[Any, Any]], path_png: str | Path) -> Path:
    """One ROC figure for several systems ``{name: (y_true, y_score)}``."""
    fig, ax = _pyplot().subplots(figsize=(6, 5))
    for name, (y, s) in curves.items():
        RocDisplay.from_scores(y, s, name).plot(ax)
    return _save(fig, path_png)


def save_det(curves: dict[str, tuple[Any, Any]], path_png: str | Path) -> Path:
    """One DET figure for several systems ``{name: (y_true, y_score)}``."""
    fig, ax = _pyplot().subplots(figsize=(6, 5))
    for name, (y, s) in curves.items():
        DetDisplay.from_scores(y, s, name).plot(ax)
    return _save(fig, path_png)


def save_roc_det(curves: dict[str, tuple[Any, Any]], path_png: str | Path) -> Path:
    """ROC and DET side by side for several systems ``{name: (y_true, y_score)}``."""
    fig, (ax_roc, ax_det) = _pyplot().subplots(1, 2, figsize=(12, 5))
    for name, (y, s) in curves.items():
        RocDisplay.from_scores(y, s, name).plot(ax_roc)
        DetDisplay.from_scores(y, s, name).plot(ax_det)
    return _save(fig, path_png)
