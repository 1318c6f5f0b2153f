"""All-vs-all verification: TAR@FAR down to 1e-6 over every pair of a descriptor set, never storing the scores.

Every unordered pair ``i < j`` of ``N`` descriptors is scored once, by blocks of rows against
blocks of columns (a matrix product per block for dot-product metrics). Rows are sorted by
identity, so the genuine pairs lie in the few blocks near the diagonal. From each block:

* **genuine** scores are kept (there are few: ``sum_c n_c (n_c - 1) / 2``);
* **impostor** scores feed a histogram over the float32 bit pattern of the score (``2**20`` bins,
  relative width ``2**-11``, whatever the score's range), which gives the ROC/DET curve and AUC;
* the **top** ``M`` impostor scores are kept exactly (a running threshold: once ``M`` are held,
  only scores above the ``M``-th best are looked at again). ``M`` is one more than the false
  accepts the largest FAR target allows, within ``tail_budget`` bytes.

TAR@FAR is then exact, with the definition of :func:`facemetric.verify.curves.tar_at_far`: the
highest TPR whose FPR is at most the target, i.e. the share of genuine scores strictly above the
``(m + 1)``-th highest impostor score, ``m = floor(FAR * n_impostor)``; NaN below one false accept.
A target whose tail would not fit the budget is read from the histogram instead, conservatively
(a threshold at a bin edge: the FPR stays under the target) and flagged ``exact: false``.

The metric is duck-typed (``prepare``, ``score_matrix``, ``dot_product_scores``), so this module
needs nothing above :mod:`facemetric.verify`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from facemetric.errors import ConfigError, InputError
from facemetric.verify.curves import DEFAULT_FARS, auc_from_rates, check_fars, far_key

SHIFT = 12  # float32 key bits dropped: 2**20 histogram bins
N_BINS = 1 << (32 - SHIFT)
SEGMENT = 128
DEFAULT_BLOCK = 4096
DEFAULT_TAIL_BUDGET = 256 << 20


def score_keys(S: np.ndarray) -> np.ndarray:
    """Histogram bin of each score: the top ``32 - SHIFT`` bits of its order-preserving float32 key."""
    bits = np.ascontiguousarray(S, dtype=np.float32).view(np.int32)
    key = bits >> 31  # negative floats: flip the magnitude bits, so that integer order is float order
    key &= 0x7FFFFFFF
    key ^= bits
    key >>= SHIFT
    key += 1 << (31 - SHIFT)
    return key


def bin_lower_edges() -> np.ndarray:
    """(N_BINS,) the smallest float32 score of each bin (float64; NaN bins hold no finite score)."""
    key = (np.arange(N_BINS, dtype=np.int64) - (1 << (31 - SHIFT))) << SHIFT
    key = key.astype(np.int32)
    bits = key ^ ((key >> 31) & np.int32(0x7FFFFFFF))
    with np.errstate(invalid="ignore"):  # the NaN bit patterns at both ends hold no score
        return bits.view(np.float32).astype(np.float64)


class TopTail:
    """The ``size`` largest values seen, exactly, by a running threshold and occasional partitions."""

    def __init__(self, size: int, dtype) -> None:
        self.size = size
        self.parts: list[np.ndarray] = []
        self.held = 0
        self.threshold = -np.inf
        self.dtype = dtype

    def add(self, values: np.ndarray) -> None:
        if values.size == 0 or self.size == 0:
            return
        self.parts.append(np.asarray(values, dtype=self.dtype))
        self.held += values.size
        if self.held >= 2 * self.size + (1 << 16):
            self._shrink()

    def _shrink(self) -> None:
        v = np.concatenate(self.parts)
        if v.size > self.size:
            v = np.partition(v, v.size - self.size)[v.size - self.size:]
            self.threshold = float(v.min())
        self.parts, self.held = [v], v.size

    def sorted(self) -> np.ndarray:
        """The held values, largest first (at most ``size``)."""
        if not self.parts:
            return np.empty(0, self.dtype)
        self._shrink()
        v = self.parts[0]
        return np.sort(v)[::-1]


def _above(S: np.ndarray, threshold: float) -> np.ndarray:
    """Values of ``S`` strictly above ``threshold``; reads again only the segments whose max qualifies."""
    if not np.isfinite(threshold):
        return S[S > threshold]
    n_rows, n_cols = S.shape
    if n_cols % SEGMENT:
        return S[S > threshold]
    V = S.reshape(n_rows, n_cols // SEGMENT, SEGMENT)
    hit = V.max(axis=2) > threshold
    if np.count_nonzero(hit) > hit.size // 4:  # a low threshold: one pass over the block is cheaper
        return S[S > threshold]
    rr, ss = np.nonzero(hit)
    vals = V[rr, ss]
    return vals[vals > threshold]


@dataclass
class AllPairsResult:
    """TAR@FAR over every pair, the counts, and the curve from the histogram."""

    n_images: int
    n_pairs: int
    n_genuine: int
    n_impostor: int
    tar_at_far: dict[float, float]
    thresholds: dict[float, float]
    exact: dict[float, bool]
    auc: float
    fpr: np.ndarray = field(repr=False)
    tpr: np.ndarray = field(repr=False)

    def save_roc_det(self, path_png: str, name: str = "system") -> None:
        """ROC and DET side by side, from the histogram's curve."""
        from facemetric.verify.plots import DetDisplay, RocDisplay, pyplot, save_figure, thin

        fig, (ax_roc, ax_det) = pyplot().subplots(1, 2, figsize=(12, 5))
        fpr, tpr = thin(self.fpr, self.tpr)
        RocDisplay(fpr=fpr, tpr=tpr, name=name, auc=self.auc).plot(ax_roc)
        DetDisplay(fpr=fpr[1:], fnr=1.0 - tpr[1:], name=name).plot(ax_det)
        save_figure(fig, path_png)

    def to_dict(self) -> dict[str, Any]:
        def finite(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {
            "n_images": self.n_images, "n_pairs": self.n_pairs, "n_genuine": self.n_genuine,
            "n_impostor": self.n_impostor,
            "tar_at_far": {far_key(f): finite(v) for f, v in self.tar_at_far.items()},
            "threshold_at_far": {far_key(f): finite(v) for f, v in self.thresholds.items()},
            "exact": {far_key(f): v for f, v in self.exact.items()},
            "auc": finite(self.auc), "auc_note": "from the impostor histogram (bins of relative width 2**-11)",
        }


def _tail_floor(counts: np.ndarray, edges: np.ndarray, m: int) -> float:
    """A score below the m-th highest impostor seen so far (-inf if fewer): the lower edge of the bin
    under the one that holds it. Only impostors above it can still be among the m highest."""
    i = int(np.searchsorted(np.cumsum(counts[::-1]), m, side="left"))  # top bins holding >= m impostors
    b = N_BINS - 1 - i
    if i >= N_BINS or b < 1 or not np.isfinite(edges[b - 1]):
        return -np.inf
    return float(edges[b - 1])


def _take_genuine(S, i0, i1, j0, j1, codes, starts, sizes, genuine: list) -> int:
    """Move the genuine scores of block ``S`` into ``genuine`` and set them, and on the diagonal the
    lower triangle, to -inf; return how many entries were set. Rows are sorted by identity."""
    masked = 0
    if i0 == j0:
        for r in range(S.shape[0]):
            S[r, :r + 1] = -np.inf
        masked = S.shape[0] * (S.shape[0] + 1) // 2
    lo, hi = max(codes[i0], codes[j0]), min(codes[i1 - 1], codes[j1 - 1])
    for c in range(lo, hi + 1):  # identities with rows among both the block's rows and its columns
        a, b = starts[c], starts[c] + sizes[c]
        r0, r1, c0, c1 = max(a, i0) - i0, min(b, i1) - i0, max(a, j0) - j0, min(b, j1) - j0
        if r1 <= r0 or c1 <= c0:
            continue
        sub = S[r0:r1, c0:c1]
        if i0 == j0:
            iu = np.triu_indices(r1 - r0, 1)
            genuine.append(sub[iu])
            masked += iu[0].size
        else:
            genuine.append(sub.ravel().copy())
            masked += sub.size
        sub[...] = -np.inf
    return masked


def _codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels).astype(str)
    if labels.size and (labels == "").any():
        raise InputError("all-vs-all verification needs the identity of every image; some labels are empty")
    _, codes = np.unique(labels, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    return order, codes.ravel()[order]


def all_pairs_tar_at_far(
    metric: Any,
    X: np.ndarray,
    labels: np.ndarray,
    *,
    fars: Iterable[float] = DEFAULT_FARS,
    block: int = DEFAULT_BLOCK,
    tail_budget: int = DEFAULT_TAIL_BUDGET,
    histogram: bool = True,
    on_block: Callable[[int], None] | None = None,
) -> AllPairsResult:
    """TAR at each FAR over every pair ``i < j`` of ``X`` (see the module docstring).

    ``metric`` must be fitted and inductive; ``labels`` (N,) are identities; ``block`` rows by
    ``block`` columns are scored at a time; ``on_block(pairs)`` is called after each block.
    ``histogram=False`` skips the impostor histogram (no curve, no AUC: about a third of the work
    at 512-d); every FAR target must then fit the exact tail.
    """
    fars = check_fars(fars)
    if getattr(metric, "transductive", False):
        raise ConfigError(f"{type(metric).__name__} is transductive: its scores depend on the whole test set; "
                          "all-vs-all verification needs an inductive metric")
    if not isinstance(block, int) or block < SEGMENT:
        raise ConfigError(f"The 'block' parameter must be an int >= {SEGMENT}. Got {block!r} instead.")
    n = int(np.asarray(X).shape[0])
    if n < 2:
        raise InputError(f"all-vs-all verification needs at least 2 images; got {n}")
    order, codes = _codes(labels)
    Z = np.asarray(metric.prepare(np.asarray(X)[order]))
    dot = bool(getattr(metric, "dot_product_scores", False))
    dtype = np.float32 if dot else np.float64
    Z = Z.astype(dtype, copy=False)
    sizes = np.bincount(codes).astype(np.int64)
    n_pairs = n * (n - 1) // 2
    n_gen = int((sizes * (sizes - 1) // 2).sum())
    n_imp = n_pairs - n_gen
    if n_gen == 0 or n_imp == 0:
        raise InputError("all-vs-all verification needs identities with 2+ images and at least 2 identities")
    tail_cap = max(0, tail_budget // (2 * np.dtype(dtype).itemsize))
    allowed = {f: int(np.floor(f * n_imp * (1 + 1e-12))) for f in fars}
    fits = [m + 1 for m in allowed.values() if m + 1 <= tail_cap and m < n_imp]
    if not histogram:
        beyond = [f for f, m in allowed.items() if m + 1 > tail_cap and m < n_imp]
        if beyond:
            raise ConfigError(f"FAR {beyond[0]:g} needs the {allowed[beyond[0]] + 1:,} highest impostor scores, more "
                              "than the tail budget holds; raise tail_budget or keep the histogram")
    tail = TopTail(max(fits, default=0), dtype)
    counts = np.zeros(N_BINS, dtype=np.int64)
    edges = bin_lower_edges()
    genuine: list[np.ndarray] = []
    masked_bin = int(score_keys(np.array([[-np.inf]], np.float32))[0, 0])
    starts = np.searchsorted(codes, np.arange(sizes.size))
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        for j0 in range(i0, n, block):
            j1 = min(n, j0 + block)
            S = np.matmul(Z[i0:i1], Z[j0:j1].T) if dot else np.asarray(metric.score_matrix(Z[i0:i1], Z[j0:j1]),
                                                                     dtype=dtype)
            masked = _take_genuine(S, i0, i1, j0, j1, codes, starts, sizes, genuine)
            if histogram:
                counts += np.bincount(score_keys(S).ravel(), minlength=N_BINS)
                counts[masked_bin] -= masked
                if tail.size:
                    tail.threshold = max(tail.threshold, _tail_floor(counts, edges, tail.size))
            tail.add(_above(S, tail.threshold))
            if on_block is not None:
                on_block((i1 - i0) * (j1 - j0) - (((i1 - i0) * (i1 - i0 + 1)) // 2 if i0 == j0 else 0))
    gen = np.sort(np.concatenate(genuine).astype(np.float64))
    gen32 = np.sort(gen.astype(np.float32)).astype(np.float64)  # the histogram's view of the scores
    top = tail.sorted().astype(np.float64)
    above_imp = np.cumsum(counts[::-1])[::-1]  # impostors in bins >= b
    tar, thr, exact = {}, {}, {}
    for f, m in allowed.items():
        if f * n_imp < 1.0 - 1e-9:
            tar[f], thr[f], exact[f] = float("nan"), float("nan"), True
        elif m >= n_imp:
            tar[f], thr[f], exact[f] = 1.0, float("-inf"), True
        elif m < top.size:
            v = top[m]  # the (m + 1)-th highest impostor score: accept strictly above it
            tar[f], thr[f], exact[f] = float(gen.size - np.searchsorted(gen, v, side="right")) / gen.size, v, True
        else:  # from the histogram: accept float32(score) >= the lowest bin edge with <= m impostors above
            b = int(np.argmax(above_imp <= m))
            tar[f] = float(gen32.size - np.searchsorted(gen32, edges[b], side="left")) / gen32.size
            thr[f], exact[f] = edges[b], False
    if not histogram:
        return AllPairsResult(n, n_pairs, n_gen, n_imp, tar, thr, exact, float("nan"), np.empty(0), np.empty(0))
    fpr, tpr = _curve(counts, above_imp, gen32, edges, n_imp)
    return AllPairsResult(n, n_pairs, n_gen, n_imp, tar, thr, exact, auc_from_rates(fpr, tpr), fpr, tpr)


def _curve(counts, above_imp, gen32, edges, n_imp) -> tuple[np.ndarray, np.ndarray]:
    """ROC points at the bin edges that hold a score (accept float32(score) >= edge), from (0, 0)."""
    gen_bins = np.unique(score_keys(gen32[None, :].astype(np.float32))[0])
    bins = np.union1d(np.flatnonzero(counts), gen_bins)[::-1]
    tp = gen32.size - np.searchsorted(gen32, edges[bins], side="left")
    return np.r_[0.0, above_imp[bins] / n_imp], np.r_[0.0, tp / gen32.size]
