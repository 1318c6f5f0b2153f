"""k-reciprocal re-ranking (Zhong et al., CVPR 2017) adapted to verification pairs. Transductive.

All distinct test descriptors form the gallery. Each one gets a k-reciprocal neighbour set
(neighbours that also have it among their own ``k1`` nearest), expanded by the half-size sets
of its members that overlap it by more than two thirds, weighted by ``exp(-distance)`` and
averaged over its ``k2`` nearest neighbours (local query expansion). A pair's final distance
mixes the Jaccard distance of the two weighted sets with the original distance:
``(1 - original_weight) * jaccard + original_weight * original``; the score is its negative.
The original distance is ``max(S) - S`` for the wrapped metric's scores ``S``, divided by
each row's maximum as in the paper, and made symmetric.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from facemetric.constraints import Interval
from facemetric.errors import InputError
from facemetric.normalize.transductive import TransductiveMetric
from facemetric.normalize.wrapped import build_metric


def _k_reciprocal(top: np.ndarray, k: int) -> list[np.ndarray]:
    """For each row i, the j among its k+1 nearest that have i among their own k+1 nearest."""
    fwd = top[:, : k + 1]
    back = top[fwd, : k + 1]
    keep = (back == np.arange(top.shape[0])[:, None, None]).any(axis=2)
    return [f[m] for f, m in zip(fwd, keep)]


def k_reciprocal_distance(S: np.ndarray, ja: np.ndarray, jb: np.ndarray, *, k1: int, k2: int,
                          original_weight: float) -> np.ndarray:
    """Re-ranked distance of the pairs ``(ja, jb)`` among the ``n`` items of the score matrix ``S`` (n, n)."""
    n = S.shape[0]
    D = np.asarray(S, dtype=np.float32)
    D = np.subtract(D.max(), D, out=D if D is not S else None)  # in place when S was converted
    np.fill_diagonal(D, 0.0)
    D /= np.maximum(D.max(axis=1, keepdims=True), 1e-12)
    depth = min(n, max(k1, k2) + 1)
    top = np.argpartition(D, depth - 1, axis=1)[:, :depth] if depth < n else np.tile(np.arange(n), (n, 1))
    top = np.take_along_axis(top, np.argsort(np.take_along_axis(D, top, axis=1), axis=1, kind="stable"), axis=1)
    k1 = min(k1, depth - 1)
    full = _k_reciprocal(top, k1)
    half = _k_reciprocal(top, max(1, int(round(k1 / 2))))
    rows, cols, vals = [], [], []
    for i in range(n):
        members = full[i]
        expanded = [members]
        for c in members:
            cand = half[c]
            if np.intersect1d(cand, members, assume_unique=True).size > 2.0 / 3.0 * cand.size:
                expanded.append(cand)
        members = np.unique(np.concatenate(expanded))
        weights = np.exp(-D[i, members])
        rows.append(np.full(members.size, i))
        cols.append(members)
        vals.append(weights / weights.sum())
    V = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    if k2 > 1:
        k2 = min(k2, depth)
        expand = sparse.csr_matrix(
            (np.full(n * k2, 1.0 / k2), (np.repeat(np.arange(n), k2), top[:, :k2].ravel())), shape=(n, n)
        )
        V = (expand @ V).tocsr()
    totals = np.asarray(V.sum(axis=1)).ravel()
    abs_diff = np.asarray(abs(V[ja] - V[jb]).sum(axis=1)).ravel()
    overlap = 0.5 * (totals[ja] + totals[jb] - abs_diff)  # sum of element-wise minima
    jaccard = 1.0 - overlap / (totals[ja] + totals[jb] - overlap)
    original = 0.5 * (D[ja, jb] + D[jb, ja])
    return (1.0 - original_weight) * jaccard + original_weight * original


class KReciprocalRerank(TransductiveMetric):
    """Verification score ``-`` the k-reciprocal re-ranked distance over the test descriptors.

    ``metric``: the wrapped metric spec, fitted on the training data. ``k1``: neighbourhood size
    (smaller suits sets with few images per person), ``k2``: query-expansion size,
    ``original_weight``: weight of the original distance (the paper's lambda). ``max_images``
    bounds the test set (the score matrix is dense, n x n float32).
    """

    _parameter_constraints = {
        "k1": [Interval("int", 1)],
        "k2": [Interval("int", 1)],
        "original_weight": [Interval("float", 0, 1)],
        "max_images": [Interval("int", 2)],
    }

    def __init__(self, metric: Any = "cosine", *, k1: int = 10, k2: int = 3, original_weight: float = 0.3,
                 max_images: int = 12000) -> None:
        self.metric = metric
        self.k1 = k1
        self.k2 = k2
        self.original_weight = original_weight
        self.max_images = max_images

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        self.base_ = build_metric(self.metric).fit(X, y)

    def score_test(self, T: np.ndarray, ja: np.ndarray, jb: np.ndarray) -> np.ndarray:
        if T.shape[0] > self.max_images:
            raise InputError(
                f"k-reciprocal re-ranking got {T.shape[0]} distinct test descriptors, more than "
                f"max_images={self.max_images}; score the protocol fold by fold or raise max_images"
            )
        base = self.base_
        Z = base.prepare(T)
        S = base.score_matrix(Z, Z).astype(np.float32)
        return -k_reciprocal_distance(S, ja, jb, k1=int(self.k1), k2=int(self.k2),
                                      original_weight=float(self.original_weight))
