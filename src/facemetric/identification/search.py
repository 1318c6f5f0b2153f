"""1:N identification: search probes against a gallery of templates and measure it.

:func:`topk_search` is the plain search (the k best gallery rows for every probe) on the blocked
engine of :mod:`facemetric.identification.engine`. :func:`search` is the evaluated search behind
``facemetric search``:

1. the gallery is pooled into templates (one per identity by default, or from a template file),
   the probes are single images or templates; every template is encoded once by a set scorer
   (pooling then the metric's ``prepare``, or PLDA's sufficient statistics);
2. gallery templates are sorted by subject, so that the mates of a probe are one range of
   columns; each mated probe's mate score is computed exactly, pair by pair;
3. one blocked pass gives each probe its best non-mated candidates and, for mated probes, the
   number of non-mated entries scoring at least the mate (hence the exact rank);
4. a probe image that is also in the gallery (the same file given twice) is searched with itself
   left out: its mate template is pooled again without it, and a subject whose only gallery
   image it was becomes non-mated for that probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from facemetric.errors import InputError
from facemetric.identification.engine import DEFAULT_BUDGET, GalleryRows, Partial, dot_scores, search_range
from facemetric.identification.measures import cmc, fnir_at_fpir, identification_rates
from facemetric.templates.groups import Groups
from facemetric.types import DescriptorSet
from facemetric.verify.curves import DEFAULT_FARS, far_key

PAIR_CHUNK = 1 << 15
#: ``runner(score_block, probes, gallery, lo, hi, **options) -> Partial``: where the blocked pass runs.
Runner = Callable[..., Partial]


def _score_block(scorer: Any) -> tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], Any]:
    """(block scorer, dtype): one float32 GEMM for dot-product metrics, else the scorer's score_matrix."""
    if scorer.dot_product_scores:
        return dot_scores, np.float32
    return scorer.score_matrix, np.float64


def topk_search(
    scorer: Any, probes: np.ndarray, gallery: np.ndarray, k: int, *, budget: int = DEFAULT_BUDGET,
    runner: Runner = search_range, on_block: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, indices)`` (P, k) of the k best rows of the raw ``gallery`` for every probe row, best first.

    ``scorer`` encodes and scores (see :mod:`facemetric.templates.scorers`); gallery rows are encoded
    one block at a time, so the gallery is never copied whole.
    """
    score, dtype = _score_block(scorer)
    P = np.asarray(scorer.encode(probes)).astype(dtype, copy=False)
    k = min(k, gallery.shape[0])
    rows = GalleryRows(gallery, scorer, dtype=dtype)
    kwargs = {"k": k, "budget": budget, "dtype": dtype}
    if on_block is not None:
        kwargs["on_block"] = on_block
    return runner(score, P, rows, 0, gallery.shape[0], **kwargs).sorted()


@dataclass
class SearchResult:
    """What :func:`search` found, per probe (template), with the gallery it searched.

    ``candidates``/``candidate_scores`` (P, L): the best gallery templates, best first (indices into
    ``gallery_names``); ``mate_score`` (P,) NaN for non-mated probes; ``rank`` (P,) the mate's rank
    (0 for non-mated probes); ``non_mated_top`` (P,) the best score of each probe's non-mated entries.
    """

    probe_names: np.ndarray
    probe_subjects: np.ndarray
    gallery_names: np.ndarray
    gallery_subjects: np.ndarray
    candidates: np.ndarray
    candidate_scores: np.ndarray
    mate_score: np.ndarray
    rank: np.ndarray
    non_mated_top: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def mated(self) -> np.ndarray:
        return self.rank > 0

    def figures(self, *, max_rank: int = 20, fpirs=DEFAULT_FARS, open_set_rank: int = 1) -> dict[str, Any]:
        """``rank1``, ``cmc`` (from rank 1), counts and, with non-mated probes, ``fnir_at_fpir``."""
        mated = self.mated
        out: dict[str, Any] = {
            "n_probes": int(self.rank.size), "n_mated": int(mated.sum()), "n_non_mated": int((~mated).sum()),
            "n_gallery_templates": int(self.gallery_names.size),
        }
        if mated.any():
            curve = cmc(self.rank[mated], min(max_rank, self.gallery_names.size))
            out["rank1"] = float(curve[0])
            out["cmc"] = curve.tolist()
        else:
            out["rank1"], out["cmc"] = None, []
        if mated.any() and (~mated).any():
            fnir = fnir_at_fpir(self.mate_score[mated], self.rank[mated], self.non_mated_top[~mated], fpirs,
                                rank=open_set_rank)
            out["fnir_at_fpir"] = {far_key(f): v for f, v in fnir.items()}
            out["open_set_rank"] = open_set_rank
        return out

    def det(self, open_set_rank: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(FPIR, FNIR) points of the identification DET curve."""
        mated = self.mated
        fpir, fnir, _, _ = identification_rates(self.mate_score[mated], self.rank[mated],
                                                self.non_mated_top[~mated], rank=open_set_rank)
        return fpir, fnir


def _probe_subjects(subjects: np.ndarray, what: str, names: np.ndarray) -> np.ndarray:
    if (subjects == "").any():
        k = int(np.flatnonzero(subjects == "")[0])
        raise InputError(f"{what}: probe {str(names[k])!r} has no identity label, so the search cannot tell "
                         "whether its mate was found; give every probe a label")
    return subjects


def search(
    scorer: Any,
    gallery: DescriptorSet,
    probes: DescriptorSet,
    *,
    gallery_groups: Groups | None,
    probe_groups: Groups | None = None,
    n_candidates: int = 10,
    budget: int = DEFAULT_BUDGET,
    runner: Runner = search_range,
    on_block: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> SearchResult:
    """Search ``probes`` against ``gallery`` (see the module docstring).

    ``gallery_groups``: gallery templates (``None``: every gallery image its own template, encoded
    block by block); ``probe_groups``: probe templates (``None``: every probe image searched alone).
    ``runner`` runs the blocked pass (default: here; :mod:`facemetric.scale.search` shards it on Dask);
    ``on_total(n)`` is told the number of gallery columns, ``on_block(k)`` each block's columns, for progress.
    """
    if len(gallery) == 0:
        raise InputError("the gallery is empty: give a gallery descriptor set with at least one image")
    if len(probes) == 0:
        raise InputError("there are no probes: give a probe descriptor set with at least one image")
    score, dtype = _score_block(scorer)
    pooled = gallery_groups is not None
    g_groups = gallery_groups if pooled else Groups.singletons(gallery)
    order = np.argsort(g_groups.subjects, kind="stable")
    g_subjects = g_groups.subjects[order]
    if pooled:
        block = GalleryRows(np.asarray(scorer.encode(gallery.X, g_groups))[order].astype(dtype, copy=False),
                            dtype=dtype)
    else:
        in_order = bool((order == np.arange(order.size)).all())
        block = GalleryRows(gallery.X, scorer, None if in_order else order, dtype=dtype)
    p_names = probes.ids if probe_groups is None else probe_groups.names
    p_subjects = _probe_subjects(probes.labels if probe_groups is None else probe_groups.subjects, "probes", p_names)
    Q = np.asarray(scorer.encode(probes.X, probe_groups)).astype(dtype, copy=False)
    lo = np.searchsorted(g_subjects, p_subjects, side="left")
    hi = np.searchsorted(g_subjects, p_subjects, side="right")
    notes: list[str] = []
    skip = _left_out_columns(gallery, probes, g_groups, order, probe_groups, lo, hi, notes)
    k = max(1, min(n_candidates, g_subjects.size))
    mates, mate_cols = _mate_scores(scorer, Q, block, lo, hi, skip, k)
    if pooled and (skip >= 0).any():
        _add_left_out_templates(scorer, gallery, probes, g_groups, order, Q, skip, mates, mate_cols)
    mate = mates[:, 0]
    if (skip >= 0).any():
        lost = int(((skip >= 0) & ~np.isfinite(mate)).sum())
        notes.append(f"{int((skip >= 0).sum())} probe image(s) are also gallery images: each was searched with itself "
                     f"left out of the gallery ({lost} of them then have no mate and count as non-mated)")
    if on_total is not None:
        on_total(int(g_subjects.size))
    options = {"k": k, "mate_score": mate, "mask_lo": lo, "mask_hi": hi, "budget": budget, "dtype": dtype}
    if on_block is not None:
        options["on_block"] = on_block
    part = runner(score, Q, block, 0, g_subjects.size, **options)
    top_s, top_i = part.sorted()
    mated = np.isfinite(mate)
    rank = np.where(mated, part.n_above + 1, 0)
    # candidate lists: the best mates join the non-mated candidates, after any non-mate they tie with
    all_s = np.hstack([top_s.astype(np.float64), mates])
    all_i = np.hstack([top_i, mate_cols])
    pick = np.argsort(-all_s, axis=1, kind="stable")[:, :k]
    return SearchResult(
        probe_names=p_names, probe_subjects=p_subjects, gallery_names=g_groups.names[order],
        gallery_subjects=g_subjects, candidates=np.take_along_axis(all_i, pick, 1),
        candidate_scores=np.take_along_axis(all_s, pick, 1), mate_score=np.where(mated, mate, np.nan), rank=rank,
        non_mated_top=top_s[:, 0].astype(np.float64), notes=notes,
    )


def _gather(block: Callable[[int, int], np.ndarray], cols: np.ndarray) -> np.ndarray:
    """Encoded gallery columns ``cols`` (sorted), read by runs of consecutive columns."""
    if cols.size == 0:
        return block(0, 0)
    runs = np.split(cols, np.flatnonzero(np.diff(cols) != 1) + 1)
    return np.concatenate([block(int(run[0]), int(run[-1]) + 1) for run in runs])


def _mate_scores(scorer, Q, block, lo, hi, skip, k) -> tuple[np.ndarray, np.ndarray]:
    """(P, k) scores and columns of each probe's best mated columns in ``[lo, hi)`` but ``skip``, best first.

    Scored pair by pair with the scorer's ``score_prepared``: the score ``facemetric score`` gives.
    -inf and -1 where a probe has fewer mates.
    """
    n = Q.shape[0]
    sizes = hi - lo
    probe = np.repeat(np.arange(n), sizes)
    col = np.arange(probe.size) - np.repeat(np.cumsum(sizes) - sizes, sizes) + np.repeat(lo, sizes)
    keep = col != skip[probe]
    probe, col = probe[keep], col[keep]
    scores = np.empty(probe.size)
    for start in range(0, probe.size, PAIR_CHUNK):
        sl = slice(start, start + PAIR_CHUNK)
        uniq, inv = np.unique(col[sl], return_inverse=True)
        scores[sl] = np.asarray(scorer.score_prepared(Q[probe[sl]], _gather(block, uniq)[inv.ravel()]), np.float64)
    top = np.full((n, k), -np.inf)
    top_col = np.full((n, k), -1, dtype=np.int64)
    if probe.size:
        order = np.lexsort((-scores, probe))
        p = probe[order]
        place = np.arange(p.size) - np.searchsorted(p, p)  # position among the probe's mates, best first
        ok = place < k
        top[p[ok], place[ok]] = scores[order][ok]
        top_col[p[ok], place[ok]] = col[order][ok]
    return top, top_col


def _left_out_columns(gallery, probes, g_groups, order, probe_groups, lo, hi, notes) -> np.ndarray:
    """(P,) the gallery column holding each probe's own image (-1: none); checks that it is a mated column."""
    skip = np.full(probes.X.shape[0] if probe_groups is None else probe_groups.n_templates, -1, dtype=np.int64)
    member_ids = gallery.ids[g_groups.rows]
    shared = np.isin(member_ids, probes.ids)
    if not shared.any():
        return skip
    if probe_groups is not None:
        first = member_ids[np.flatnonzero(shared)[0]]
        raise InputError(f"probe templates share {int(shared.sum())} image(s) with the gallery, e.g. {str(first)!r}; a "
                         "search must not find a probe's own images: give a gallery and probes with no image in common")
    position = np.empty(order.size, np.int64)
    position[order] = np.arange(order.size)
    members = np.flatnonzero(shared)
    who = probes.index_of(member_ids[members])
    cols = position[g_groups.template[members]]
    if np.unique(who).size != who.size:
        dup = probes.ids[np.flatnonzero(np.bincount(who) > 1)[0]]
        raise InputError(f"image {str(dup)!r} is a probe and sits in several gallery templates; leave-one-out needs "
                         "each shared image in one gallery template")
    outside = (cols < lo[who]) | (cols >= hi[who])
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        raise InputError(f"image {str(member_ids[members[k]])!r} is a probe of subject {str(probes.labels[who[k]])!r} "
                         "but sits in a gallery template of another subject; check the labels of both files")
    skip[who] = cols
    return skip


def _add_left_out_templates(scorer, gallery, probes, g_groups, order, Q, skip, mates, mate_cols) -> None:
    """Score each affected probe against its own mated template pooled again without the probe's image."""
    who = np.flatnonzero(skip >= 0)
    template = order[skip[who]]  # template codes holding each probe's image
    by_template = np.argsort(g_groups.template, kind="stable")
    starts = np.searchsorted(g_groups.template[by_template], np.arange(g_groups.n_templates))
    sizes = g_groups.sizes
    seg = sizes[template]
    owner = np.repeat(np.arange(who.size), seg)
    member = by_template[np.arange(owner.size) - np.repeat(np.cumsum(seg) - seg, seg) + np.repeat(starts[template], seg)]
    keep = gallery.ids[g_groups.rows[member]] != probes.ids[who[owner]]
    owner, member = owner[keep], member[keep]
    if owner.size == 0:
        return
    used, code = np.unique(owner, return_inverse=True)
    names = used.astype(str)
    loo = Groups(g_groups.rows[member], code.ravel(), g_groups.media[member], names, names,
                 None if g_groups.weights is None else g_groups.weights[member])
    s = np.asarray(scorer.score_prepared(Q[who[used]], np.asarray(scorer.encode(gallery.X, loo))), np.float64)
    rows = who[used]
    cand_s = np.hstack([mates[rows], s[:, None]])
    cand_c = np.hstack([mate_cols[rows], skip[rows][:, None]])
    best = np.argsort(-cand_s, axis=1, kind="stable")[:, :mates.shape[1]]
    mates[rows] = np.take_along_axis(cand_s, best, 1)
    mate_cols[rows] = np.take_along_axis(cand_c, best, 1)
