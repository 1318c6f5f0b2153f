"""Closed-set and open-set identification figures from ranks and scores (pure functions).

* **Rank** of a mated probe: 1 + the number of non-mated gallery entries scoring at least as
  high as its mate (ties count against the probe). With several gallery templates of the
  probe's subject, the best-scoring one is the mate.
* **CMC** at rank r: the share of mated probes whose rank is at most r (rank-1 accuracy first).
* **Open set**, as NIST FRVT 1:N reports it. A non-mated probe is a false positive at threshold t
  when its best gallery score is ``>= t``: FPIR(t) is their share. A mated probe is a miss at t
  when its mate is not at rank <= R or scores below t: FNIR(t) is their share (R = 1 by default).
  FNIR at an FPIR target is the lowest FNIR over the thresholds whose FPIR is at most the
  target (never the nearest FPIR), NaN where the target is below one false positive. This is
  :func:`facemetric.verify.curves.tar_from_rates` on the identification rates.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from facemetric.errors import InputError
from facemetric.verify.curves import check_fars, sorted_counts, tar_from_rates


def cmc(ranks: np.ndarray, max_rank: int) -> np.ndarray:
    """(max_rank,) share of ``ranks`` (1-based, one per mated probe) that are <= 1, 2, ..., max_rank."""
    ranks = np.asarray(ranks)
    if ranks.size == 0:
        raise InputError("no probe has a mate in the gallery, so there is no CMC; check that the gallery and the "
                         "probes share identities")
    counts = np.bincount(np.minimum(ranks, max_rank + 1), minlength=max_rank + 2)[1:max_rank + 1]
    return np.cumsum(counts) / ranks.size


def identification_rates(
    mate_scores: np.ndarray, ranks: np.ndarray, non_mated_top: np.ndarray, *, rank: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(fpir, fnir, thresholds, n_non_mated)`` at every distinct score, thresholds decreasing.

    ``mate_scores`` and ``ranks`` are those of the mated probes, ``non_mated_top`` the best gallery
    score of each non-mated probe. The first point is (0, 1), above every score.
    """
    mate_scores = np.asarray(mate_scores, dtype=np.float64)
    non_mated_top = np.asarray(non_mated_top, dtype=np.float64)
    if mate_scores.size == 0 or non_mated_top.size == 0:
        raise InputError("open-set figures need both mated and non-mated probes")
    hits = mate_scores[np.asarray(ranks) <= rank]
    s = np.concatenate([hits, non_mated_top])
    y = np.concatenate([np.ones(hits.size, np.int8), np.zeros(non_mated_top.size, np.int8)])
    order = np.argsort(s, kind="stable")[::-1]
    fps, tps, thr = sorted_counts(y[order], s[order])
    n_non = float(non_mated_top.size)
    fpir = np.r_[0.0, fps / n_non]
    fnir = np.r_[1.0, 1.0 - tps / mate_scores.size]
    return fpir, fnir, np.r_[np.inf, thr], n_non


def fnir_at_fpir(
    mate_scores: np.ndarray, ranks: np.ndarray, non_mated_top: np.ndarray, fpirs: Iterable[float], *, rank: int = 1
) -> dict[float, float]:
    """Lowest FNIR with FPIR <= each target (NaN where a target is below 1 / n_non_mated)."""
    fpirs = check_fars(fpirs)
    fpir, fnir, _, n_non = identification_rates(mate_scores, ranks, non_mated_top, rank=rank)
    tpir = tar_from_rates(fpir, 1.0 - fnir, n_non, fpirs)
    return {f: 1.0 - v for f, v in tpir.items()}
