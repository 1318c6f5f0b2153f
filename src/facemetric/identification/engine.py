"""Blocked 1:N search: matrix products of probe blocks against gallery blocks with a running top-k.

The engine never holds more than one block of ``probes x gallery`` scores, sized by a memory
budget, so its cost is the matrix products (BLAS) plus a few passes over each block:

* the running top-k of every probe is updated from a block only where a score beats the probe's
  current k-th best. Each row of the block is cut into segments of ``SEGMENT`` columns; one max
  per segment tells which segments can hold a candidate, and only those are read again. Gallery
  blocks start narrow and double in width, so that the first ones set the thresholds at little
  cost; after them almost no segment qualifies;
* for mated probes, the number of non-mated gallery entries scoring at least the mate's score is
  counted block by block (one comparison per score): the rank of the mate is exact at any depth,
  with no list of candidates.

The mated gallery columns of a probe (its ``mask`` range: the gallery is sorted by subject) are
taken out of both. Gallery shards can be searched separately and
merged (:func:`merge_partials`): the result is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

SEGMENT = 128
DENSE_FRACTION = 0.5  # more candidate segments than this share of a block: exact top-k of the whole block
FIRST_BLOCK = 2048  # gallery blocks start this wide and double: the first ones set the thresholds cheaply
DEFAULT_BUDGET = 256 << 20  # bytes of scores held at once


def dot_scores(P: np.ndarray, G: np.ndarray) -> np.ndarray:
    """Scores of dot-product metrics: one matrix product (float32 in, float32 out)."""
    return np.matmul(P, G.T)


@dataclass
class GalleryRows:
    """Gallery columns to search, callable as ``gallery_block(a, b)`` (global column numbers).

    ``rows`` holds encoded templates, or raw descriptors that ``encoder.encode`` turns into encoded
    rows one block at a time (so a raw gallery is never copied whole); ``index`` optionally
    reorders ``rows`` (column j is ``rows[index[j]]``); ``offset`` is the column of the first row.
    Picklable, so that shards can travel to Dask workers.
    """

    rows: np.ndarray
    encoder: Any = None
    index: np.ndarray | None = None
    offset: int = 0
    dtype: Any = np.float32

    def __len__(self) -> int:
        return int(self.rows.shape[0] if self.index is None else self.index.size)

    def raw(self, a: int, b: int) -> np.ndarray:
        """Rows of columns ``a:b`` as stored (raw or encoded)."""
        a, b = a - self.offset, b - self.offset
        return self.rows[a:b] if self.index is None else self.rows[self.index[a:b]]

    def __call__(self, a: int, b: int) -> np.ndarray:
        block = self.raw(a, b)
        if self.encoder is not None:
            block = self.encoder.encode(block)
        return np.asarray(block).astype(self.dtype, copy=False)

    def shard(self, a: int, b: int) -> GalleryRows:
        """Columns ``a:b`` as a self-contained copy (for another process)."""
        return GalleryRows(np.ascontiguousarray(self.raw(a, b)), self.encoder, None, a, self.dtype)


@dataclass
class Partial:
    """Running result over some gallery columns: ``top_scores``/``top_index`` (P, k) of the non-mated
    entries (unsorted, -inf/-1 where fewer than k), and ``n_above`` (P,) non-mated entries scoring at
    least the probe's mate score."""

    top_scores: np.ndarray
    top_index: np.ndarray
    n_above: np.ndarray

    @classmethod
    def empty(cls, n_probes: int, k: int, dtype=np.float32) -> Partial:
        return cls(np.full((n_probes, k), -np.inf, dtype=dtype), np.full((n_probes, k), -1, dtype=np.int64),
                   np.zeros(n_probes, dtype=np.int64))

    def sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """(scores, indices) of each probe's top-k in decreasing order of score."""
        order = np.argsort(-self.top_scores, axis=1, kind="stable")
        return np.take_along_axis(self.top_scores, order, 1), np.take_along_axis(self.top_index, order, 1)


def _keep_best(scores: np.ndarray, index: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best columns of each row of (rows, m) candidates, m >= k."""
    if scores.shape[1] == k:
        return scores, index
    part = np.argpartition(scores, scores.shape[1] - k, axis=1)[:, -k:]
    return np.take_along_axis(scores, part, 1), np.take_along_axis(index, part, 1)


def _merge_dense(state: Partial, rows: slice, S: np.ndarray, col0: int) -> None:
    k = state.top_scores.shape[1]
    n_cols = S.shape[1]
    step = max(1, (1 << 22) // max(n_cols, 1))  # argpartition's int64 output: at most 32 MiB at a time
    for lo in range(0, S.shape[0], step):
        block = S[lo:lo + step]
        if n_cols > k:
            idx = np.argpartition(block, n_cols - k, axis=1)[:, -k:]
            vals = np.take_along_axis(block, idx, 1)
        else:
            idx = np.broadcast_to(np.arange(n_cols), block.shape)
            vals = block
        r = slice(rows.start + lo, rows.start + lo + block.shape[0])
        s, i = _keep_best(np.hstack([state.top_scores[r], vals]), np.hstack([state.top_index[r], idx + col0]), k)
        state.top_scores[r], state.top_index[r] = s, i


def _merge_sparse(state: Partial, rows: slice, cand_r: np.ndarray, cand_c: np.ndarray, cand_v: np.ndarray) -> None:
    """Merge candidates (row within the block, global column, score), sorted by row."""
    k = state.top_scores.shape[1]
    counts = np.bincount(cand_r, minlength=rows.stop - rows.start)
    hit = np.flatnonzero(counts)
    width = int(counts.max())
    start = np.concatenate([[0], np.cumsum(counts)])[:-1]
    slot = np.arange(cand_r.size) - start[cand_r]
    where = np.searchsorted(hit, cand_r)
    pad_s = np.full((hit.size, width), -np.inf, dtype=state.top_scores.dtype)
    pad_i = np.full((hit.size, width), -1, dtype=np.int64)
    pad_s[where, slot] = cand_v
    pad_i[where, slot] = cand_c
    g = hit + rows.start
    s, i = _keep_best(np.hstack([state.top_scores[g], pad_s]), np.hstack([state.top_index[g], pad_i]), k)
    state.top_scores[g], state.top_index[g] = s, i


def update_topk(state: Partial, rows: slice, S: np.ndarray, col0: int) -> None:
    """Fold the scores ``S`` (rows of the probe block, columns ``col0...``) into the running top-k."""
    thr = state.top_scores[rows].min(axis=1)
    n_rows, n_cols = S.shape
    if n_cols % SEGMENT or n_cols < SEGMENT or np.isneginf(thr).any():
        _merge_dense(state, rows, S, col0)
        return
    V = S.reshape(n_rows, n_cols // SEGMENT, SEGMENT)
    hit = V.max(axis=2) > thr[:, None]
    n_hit = int(np.count_nonzero(hit))
    if n_hit == 0:
        return
    if n_hit > DENSE_FRACTION * hit.size:
        _merge_dense(state, rows, S, col0)
        return
    rr, ss = np.nonzero(hit)
    vals = V[rr, ss]  # (n_hit, SEGMENT): only the segments that can hold a candidate
    ci, cj = np.nonzero(vals > thr[rr][:, None])
    _merge_sparse(state, rows, rr[ci], ss[ci] * SEGMENT + cj + col0, vals[ci, cj])


def block_sizes(n_probes: int, n_gallery: int, itemsize: int, budget: int) -> tuple[int, int]:
    """(probe block, gallery block) whose score block (plus a mask byte per score) fits ``budget`` bytes."""
    per_score = itemsize + 1
    bp = max(1, min(n_probes, 2048))
    bg = max(SEGMENT, budget // (per_score * bp))
    bg = min(n_gallery, bg - bg % SEGMENT)
    if bg == n_gallery:
        bp = max(1, min(n_probes, budget // (per_score * max(n_gallery, 1))))
    return bp, max(1, bg)


def search_range(
    score_block: Callable[[np.ndarray, np.ndarray], np.ndarray],
    probes: np.ndarray,
    gallery_block: Callable[[int, int], np.ndarray],
    lo: int,
    hi: int,
    *,
    k: int,
    mate_score: np.ndarray | None = None,
    mask_lo: np.ndarray | None = None,
    mask_hi: np.ndarray | None = None,
    budget: int = DEFAULT_BUDGET,
    dtype=np.float32,
    on_block: Callable[[int], None] | None = None,
) -> Partial:
    """Search encoded ``probes`` against gallery columns ``[lo, hi)``.

    ``score_block(P, G)`` scores every row of ``P`` against every row of ``G``; ``gallery_block(a, b)``
    returns the encoded gallery rows ``a:b`` (encoded once per block, however many probe blocks).
    ``mate_score`` (P,) is the score of each probe's mate (NaN or -inf: non-mated); ``mask_lo``,
    ``mask_hi`` (P,) the range of its mated columns, in global column numbers. ``on_block(n_columns)`` is called after each gallery block.
    """
    n_probes = probes.shape[0]
    state = Partial.empty(n_probes, k, dtype)
    if hi <= lo or n_probes == 0:
        return state
    itemsize = np.dtype(dtype).itemsize
    bp, bg = block_sizes(n_probes, hi - lo, itemsize, budget)
    has_mate = None if mate_score is None else np.isfinite(mate_score)
    for g0, g1 in _gallery_blocks(lo, hi, bg):
        G = gallery_block(g0, g1)
        for p0 in range(0, n_probes, bp):
            p1 = min(n_probes, p0 + bp)
            S = np.asarray(score_block(probes[p0:p1], G), dtype=dtype)
            if mask_lo is not None:
                _mask(S, p0, g0, g1, mask_lo, mask_hi)
            if has_mate is not None and has_mate[p0:p1].any():
                _count_above(state.n_above, S, p0, has_mate[p0:p1], mate_score)
            update_topk(state, slice(p0, p1), S, g0)
        if on_block is not None:
            on_block(g1 - g0)
    return state


def _gallery_blocks(lo: int, hi: int, widest: int):
    """Column ranges of the gallery blocks: widths FIRST_BLOCK, 2 x, 4 x ... up to ``widest``."""
    width = min(widest, FIRST_BLOCK)
    g0 = lo
    while g0 < hi:
        g1 = min(hi, g0 + width)
        yield g0, g1
        g0, width = g1, min(widest, 2 * width)


def _mask(S: np.ndarray, p0: int, g0: int, g1: int, mask_lo: np.ndarray, mask_hi: np.ndarray) -> None:
    """Set the mated columns of the block to -inf: they are neither candidates nor counted."""
    n = S.shape[0]
    lo, hi = mask_lo[p0:p0 + n], mask_hi[p0:p0 + n]
    for r in np.flatnonzero((lo < g1) & (hi > g0) & (hi > lo)):
        S[r, max(lo[r], g0) - g0:min(hi[r], g1) - g0] = -np.inf


def _count_above(n_above: np.ndarray, S: np.ndarray, p0: int, mated: np.ndarray, mate_score: np.ndarray) -> None:
    """Add, per mated probe of the block, the non-mated scores >= its mate score."""
    if mated.all():
        n_above[p0:p0 + S.shape[0]] += np.count_nonzero(S >= mate_score[p0:p0 + S.shape[0], None], axis=1)
        return
    rows = np.flatnonzero(mated)
    n_above[p0 + rows] += np.count_nonzero(S[rows] >= mate_score[p0 + rows, None], axis=1)


def merge_partials(parts: list[Partial]) -> Partial:
    """One result from the partial results of disjoint gallery shards."""
    first = parts[0]
    k = first.top_scores.shape[1]
    scores = np.hstack([p.top_scores for p in parts])
    index = np.hstack([p.top_index for p in parts])
    s, i = _keep_best(scores, index, k)
    return Partial(s, i, np.sum([p.n_above for p in parts], axis=0))
