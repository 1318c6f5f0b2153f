"""DeLong's analytic standard error of the ROC-AUC, in the fast midrank form of Sun & Xu (2014).

Each matched pair ``g`` gets the placement value ``V10[g]`` (the share of mismatched pairs it
outscores, ties counting one half) and each mismatched pair ``h`` gets ``V01[h]`` (the share of
matched pairs that outscore it). The AUC is the mean of either, and DeLong, DeLong &
Clarke-Pearson (1988) estimate its variance as ``var(V10) / m + var(V01) / n``: pairs are taken
as independent. With ``units`` (one independent block per pair, e.g. the identity blocks of
:mod:`facemetric.verify.units`) the placement values are summed per block first, which is the
clustered form of Obuchowski (1997): blocks, not pairs, are then the independent draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm, rankdata

from facemetric.errors import ConfigError, InputError
from facemetric.verify.curves import check_scores


@dataclass(frozen=True)
class DelongResult:
    """AUC, its DeLong standard error and the normal-theory interval (clipped to [0, 1])."""

    auc: float
    se: float
    ci: tuple[float, float]
    confidence: float
    n_units: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "auc": self.auc,
            "se": self.se,
            "ci": list(self.ci),
            "confidence": self.confidence,
            "n_units": self.n_units,
        }


def placement_values(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(V10, V01)``: the placement value of every matched and of every mismatched pair.

    Midranks give them in O(n log n): a matched pair's rank among all pairs, less its rank among
    the matched pairs, counts the mismatched pairs below it (ties one half).
    """
    y, s = check_scores(y_true, y_score)
    pos, neg = s[y == 1], s[y == 0]
    m, n = pos.size, neg.size
    r_all = rankdata(np.r_[pos, neg])  # midranks: ties get the mean rank
    v10 = (r_all[:m] - rankdata(pos)) / n
    v01 = 1.0 - (r_all[m:] - rankdata(neg)) / m
    return v10, v01


def delong_auc(
    y_true: Any, y_score: Any, *, units: Any = None, confidence: float = 0.95
) -> DelongResult:
    """AUC with DeLong's standard error; ``units`` (one label per pair) clusters it by block."""
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"The 'confidence' parameter must be in (0, 1). Got {confidence!r} instead.")
    y, _ = check_scores(y_true, y_score)
    v10, v01 = placement_values(y_true, y_score)
    m, n = v10.size, v01.size
    auc = float(v10.mean())
    if units is None:
        var = v10.var(ddof=1) / m + v01.var(ddof=1) / n if m > 1 and n > 1 else float("nan")
        k = y.size
    else:
        units = np.asarray(units)
        if units.shape != y.shape:
            raise InputError(f"units must give one label per pair ({y.size}); got shape {units.shape}")
        _, block = np.unique(units, return_inverse=True)
        k = int(block.max()) + 1
        # each block's contribution to the AUC's linear (Hajek) term
        contrib = np.bincount(block[y == 1], (v10 - auc) / m, minlength=k)
        contrib += np.bincount(block[y == 0], (v01 - auc) / n, minlength=k)
        var = k / (k - 1) * float(np.sum(contrib**2)) if k > 1 else float("nan")
    se = float(np.sqrt(var))
    z = float(norm.ppf(0.5 + confidence / 2.0))
    ci = (max(0.0, auc - z * se), min(1.0, auc + z * se))
    return DelongResult(auc=auc, se=se, ci=ci, confidence=confidence, n_units=k)
