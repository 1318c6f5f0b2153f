"""CMC and identification DET plots. Display classes hold arrays; matplotlib is imported only when plotting."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.verify.plots import DetDisplay, pyplot, save_figure, thin


@dataclass
class CmcDisplay:
    """Cumulative match characteristic: identification rate against rank."""

    cmc: np.ndarray
    name: str = "system"

    def plot(self, ax: Any = None) -> CmcDisplay:
        if ax is None:
            ax = pyplot().subplots()[1]
        ranks = np.arange(1, len(self.cmc) + 1)
        ax.plot(ranks, 100 * np.asarray(self.cmc), marker="o" if len(ranks) <= 30 else None, ms=3,
                label=f"{self.name} (rank-1 {100 * self.cmc[0]:.2f}%)")
        ax.set_xlabel("rank")
        ax.set_ylabel("identification rate (%)")
        ax.set_title("CMC (closed set)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right")
        self.ax_ = ax
        return self


def save_cmc(curves: dict[str, np.ndarray], path_png: str | Path) -> Path:
    """One CMC figure for several systems ``{name: cmc}``."""
    fig, ax = pyplot().subplots(figsize=(6, 5))
    for name, curve in curves.items():
        CmcDisplay(np.asarray(curve), name).plot(ax)
    return save_figure(fig, path_png)


def save_identification_det(curves: dict[str, tuple[np.ndarray, np.ndarray]], path_png: str | Path) -> Path:
    """The open-set DET (FNIR against FPIR, normal-deviate axes) for systems ``{name: (fpir, fnir)}``."""
    fig, ax = pyplot().subplots(figsize=(6, 5))
    for name, (fpir, fnir) in curves.items():
        fpir, fnir = thin(np.asarray(fpir), np.asarray(fnir))
        DetDisplay(fpr=fpir, fnr=fnir, name=name).plot(ax)
    ax.set_xlabel("false positive identification rate (FPIR)")
    ax.set_ylabel("false negative identification rate (FNIR)")
    ax.set_title("Identification DET (open set)")
    return save_figure(fig, path_png)
