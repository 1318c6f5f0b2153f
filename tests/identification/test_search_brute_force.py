"""1:N search against brute force: every probe scored against every gallery template with pair loops.

Ranks, CMC, the candidate lists and FNIR at FPIR are recomputed from the full score matrix and
compared with the blocked search, under memory budgets small enough to force many blocks and
the sparse top-k path.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from facemetric.identification.engine import Partial, dot_scores, merge_partials, search_range
from facemetric.identification.search import search, topk_search
from facemetric.metrics import make_metric
from facemetric.templates.groups import Groups
from facemetric.templates.pooling import pool_descriptors
from facemetric.templates.scorers import make_set_scorer
from facemetric.types import DescriptorSet


def _people(n_ids=60, per_id=4, dim=10, seed=0, prefix="P"):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_ids, dim)) * 2
    y = np.repeat(np.arange(n_ids), per_id)
    X = (centres[y] + rng.standard_normal((y.size, dim)) * 1.2 + 0.5).astype(np.float32)
    labels = np.array([f"{prefix}{k}" for k in y])
    ids = np.array([f"{prefix}{k}/{prefix}{k}_{j}.jpg" for j, k in enumerate(y)])
    return DescriptorSet(X=X, labels=labels, ids=ids)


def _fit(name, train):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = make_metric(name)
        return metric.fit(train.X, train.labels) if metric.needs_labels or name != "cosine" else metric.fit(train.X)


def _brute(scorer, gallery, probes, pooled):
    """Every probe against every template: (scores matrix, template subjects)."""
    if pooled:
        groups = Groups.by_label(gallery)
        E, subjects = scorer.encode(gallery.X, groups), groups.subjects
    else:
        E, subjects = scorer.encode(gallery.X), gallery.labels
    Q = scorer.encode(probes.X)
    S = np.array([[scorer.score_prepared(Q[i:i + 1], E[j:j + 1])[0] for j in range(len(E))] for i in range(len(Q))])
    return S, subjects


def _brute_figures(S, subjects, probe_labels, max_rank):
    ranks, mates, non_top = [], [], []
    for i, label in enumerate(probe_labels):
        is_mate = subjects == label
        if is_mate.any():
            m = S[i, is_mate].max()
            ranks.append(1 + int((S[i, ~is_mate] >= m).sum()))
            mates.append(m)
        else:
            non_top.append(S[i].max())
    ranks = np.array(ranks)
    curve = [float(np.mean(ranks <= r)) for r in range(1, min(max_rank, S.shape[1]) + 1)]
    return ranks, np.array(mates), np.array(non_top), curve


def _brute_fnir(mates, ranks, non_top, far):
    best = np.nan
    if far * non_top.size < 1 - 1e-9:
        return np.nan
    for t in np.unique(np.concatenate([mates, non_top, [np.inf]])):
        if np.mean(non_top >= t) <= far:
            fnir = 1 - np.mean((ranks <= 1) & (mates >= t))
            best = fnir if np.isnan(best) else min(best, fnir)
    return best


@pytest.mark.parametrize("method", ["cosine", "plda", "kissme", "l2"])
@pytest.mark.parametrize("pooled", [True, False])
def test_closed_and_open_set_figures_match_brute_force(method, pooled):
    train = _people(40, 5, seed=1, prefix="T")
    everyone = _people(60, 4, seed=2)
    in_gallery = np.isin(everyone.labels, [f"P{k}" for k in range(45)])  # P45..P59 are never enrolled
    first = np.r_[True, everyone.labels[1:] != everyone.labels[:-1]]
    gallery = everyone.subset(np.flatnonzero(in_gallery & (first | (np.arange(len(everyone)) % 4 == 1))))
    probes = everyone.subset(np.flatnonzero(~np.isin(everyone.ids, gallery.ids)))
    scorer = make_set_scorer(_fit(method, train))
    result = search(scorer, gallery, probes, gallery_groups=Groups.by_label(gallery) if pooled else None,
                    n_candidates=5, budget=4096)
    S, subjects = _brute(scorer, gallery, probes, pooled)
    ranks, mates, non_top, curve = _brute_figures(S, subjects, probes.labels, 20)
    figures = result.figures(max_rank=20)
    assert figures["n_probes"] == len(probes) and figures["n_non_mated"] == 15 * 4
    assert figures["n_gallery_templates"] == (45 if pooled else len(gallery))
    np.testing.assert_array_equal(result.rank[result.mated], ranks)
    np.testing.assert_allclose(result.mate_score[result.mated], mates, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(figures["cmc"], curve)
    assert figures["rank1"] == curve[0]
    np.testing.assert_allclose(result.non_mated_top[~result.mated], non_top, rtol=1e-5, atol=1e-5)
    for key, value in figures["fnir_at_fpir"].items():
        expected = _brute_fnir(mates, ranks, non_top, float(key))
        assert (np.isnan(value) and np.isnan(expected)) or value == pytest.approx(expected), key
    # candidate lists: the best templates in order, the mate included where it ranks
    for i in range(len(probes)):
        order = np.argsort(-S[i], kind="stable")[:5]
        np.testing.assert_allclose(result.candidate_scores[i], S[i, order], rtol=1e-5, atol=1e-5)


def test_same_file_as_gallery_and_probes_is_leave_one_out():
    people = _people(30, 3, seed=4)
    lonely = _people(5, 1, seed=5, prefix="L")  # one image each: non-mated once left out
    ds = DescriptorSet(X=np.vstack([people.X, lonely.X]), labels=np.r_[people.labels, lonely.labels],
                       ids=np.r_[people.ids, lonely.ids])
    metric = make_metric("cosine").fit(ds.X[:1])
    scorer = make_set_scorer(metric)
    result = search(scorer, ds, ds, gallery_groups=Groups.by_label(ds), budget=2048)
    assert "left out" in result.notes[0]
    groups = Groups.by_label(ds)
    for i in range(len(ds)):
        keep = np.arange(len(ds)) != i
        rest = ds.subset(np.flatnonzero(keep))
        g = Groups.by_label(rest)
        T = metric.prepare(pool_descriptors(rest.X, g))
        s = metric.prepare(ds.X[i:i + 1]) @ T.T
        is_mate = g.subjects == ds.labels[i]
        if not is_mate.any():
            assert result.rank[i] == 0  # its subject's only image was itself
            assert result.non_mated_top[i] == pytest.approx(s.max(), abs=1e-6)
            continue
        m = s[0, is_mate].max()
        assert result.rank[i] == 1 + int((s[0, ~is_mate] >= m).sum())
        assert result.mate_score[i] == pytest.approx(m, abs=1e-6)
    assert groups.n_templates == result.figures()["n_gallery_templates"] == 35
    assert result.figures()["n_non_mated"] == 5


def test_topk_search_is_argsort_and_shards_merge_exactly():
    rng = np.random.default_rng(7)
    G = rng.standard_normal((3000, 16)).astype(np.float32)
    Q = rng.standard_normal((70, 16)).astype(np.float32)
    scorer = make_set_scorer(make_metric("cosine").fit(G[:1]))
    scores, index = topk_search(scorer, Q, G, 10, budget=70 * 256 * 5)  # blocks of 256 columns: sparse path
    Zq, Zg = scorer.encode(Q), scorer.encode(G)
    full = Zq @ Zg.T
    expected = np.argsort(-full, axis=1, kind="stable")[:, :10]
    np.testing.assert_allclose(scores, np.take_along_axis(full, expected, 1), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(index, expected)
    parts = [search_range(dot_scores, Zq, lambda a, b: Zg[a:b], lo, hi, k=10) for lo, hi in ((0, 1000), (1000, 3000))]
    merged = merge_partials(parts).sorted()
    np.testing.assert_array_equal(merged[1], expected)
    assert isinstance(parts[0], Partial)
