"""The library behind ``facemetric search``: load, check, pool, search, report.

:func:`run_search` takes file paths and options as the command line gives them and returns a
:class:`SearchRun`: the :class:`~facemetric.identification.search.SearchResult`, the report
(``rank1``, ``cmc`` from rank 1, ``n_probes``, ``n_gallery_templates``, ``fnir_at_fpir`` when some
probes are non-mated, the config and notes) and what the plots need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from facemetric.errors import InputError
from facemetric.identification.engine import DEFAULT_BUDGET, search_range
from facemetric.identification.search import Runner, SearchResult, search
from facemetric.io import load_descriptors
from facemetric.io.atomic import atomic_open
from facemetric.experiments.sets import ready_metric
from facemetric.templates.builder import identities
from facemetric.templates.groups import Groups
from facemetric.templates.ijb import load_template_map, quality_weights
from facemetric.templates.scorers import make_set_scorer
from facemetric.types import DescriptorSet
from facemetric.verify.curves import DEFAULT_FARS


@dataclass
class SearchRun:
    result: SearchResult
    report: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _labelled(ds: DescriptorSet, what: str) -> DescriptorSet:
    return DescriptorSet(X=ds.X, labels=identities(ds, what), ids=ds.ids, provenance=ds.provenance, X_flip=ds.X_flip)


def run_search(
    gallery_path: str | Path,
    probes_path: str | Path,
    *,
    method: str | None = None,
    model_dir: str | Path | None = None,
    train_path: str | Path | None = None,
    flip: str | None = None,
    pool: bool = True,
    gallery_templates: str | Path | None = None,
    probe_templates: str | Path | None = None,
    quality: str | Path | None = None,
    pooling: str = "auto",
    max_rank: int = 20,
    n_candidates: int = 10,
    open_set_rank: int = 1,
    fpirs=DEFAULT_FARS,
    budget: int = DEFAULT_BUDGET,
    runner: Runner = search_range,
    on_block: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> SearchRun:
    """Search PROBES against GALLERY (see ``facemetric search --help``)."""
    g_name, p_name = f"gallery {gallery_path}", f"probes {probes_path}"
    gallery, probes = load_descriptors(gallery_path), load_descriptors(probes_path)
    if len(gallery) == 0:
        raise InputError(f"{gallery_path}: the gallery is empty; give a gallery with at least one image")
    if len(probes) == 0:
        raise InputError(f"{probes_path}: there are no probes; give a probe set with at least one image")
    train = None if train_path is None else load_descriptors(train_path)
    ready = ready_metric([(gallery, g_name), (probes, p_name)], method=method, model_dir=model_dir, train=train,
                         flip=flip, fit_on_first=True)
    g_map = None if gallery_templates is None else load_template_map(gallery_templates)
    p_map = None if probe_templates is None else load_template_map(probe_templates)
    gallery, probes = ready.sets
    # subjects come from the template files when they name them (IJB 1:N lists), else from the labels
    if g_map is None or g_map.subjects is None:
        gallery = _labelled(gallery, g_name)
    if p_map is None or p_map.subjects is None:
        probes = _labelled(probes, p_name)
    g_weights = None if quality is None else quality_weights(quality, gallery, g_name)
    p_weights = None if quality is None else quality_weights(quality, probes, p_name)
    if g_map is not None:
        g_groups = Groups.from_map(g_map, gallery, g_weights, g_name)
    elif pool:
        g_groups = Groups.by_label(gallery, g_name)
        if g_weights is not None:
            g_groups = Groups(g_groups.rows, g_groups.template, g_groups.media, g_groups.names, g_groups.subjects,
                              g_weights)
    else:
        g_groups = None
    p_groups, notes = None, list(ready.notes)
    if p_map is not None:
        p_groups = Groups.from_map(p_map, probes, p_weights, p_name)
        unused = len(probes) - np.unique(p_groups.rows).size
        if unused:
            notes.append(f"{unused} of the {len(probes)} probe images belong to no template of {probe_templates} and "
                         "were not searched")
    scorer = make_set_scorer(ready.metric, pooling)
    result = search(scorer, gallery, probes, gallery_groups=g_groups, probe_groups=p_groups,
                    n_candidates=n_candidates, budget=budget, runner=runner, on_block=on_block, on_total=on_total)
    notes += result.notes
    report = result.figures(max_rank=max_rank, fpirs=fpirs, open_set_rank=open_set_rank)
    report["config"] = {
        **ready.config, "gallery": str(gallery_path), "probes": str(probes_path),
        "gallery_templates": "per identity" if g_groups is not None and gallery_templates is None
        else (str(gallery_templates) if gallery_templates else "one per image"),
        "probe_templates": str(probe_templates) if probe_templates else "one per image",
        "set_scoring": "plda-native" if scorer.native else "mean-pooling",
        "quality": None if quality is None else str(quality), "max_rank": max_rank,
        "rank_rule": "1 + non-mated gallery templates scoring >= the mate (ties count against the probe)",
        "open_set_rule": f"hit: mate at rank <= {open_set_rank} with score >= threshold; FNIR at FPIR: lowest FNIR "
                         "with FPIR <= target",
        "train": None if train_path is None else str(train_path),
    }
    report["notes"] = notes
    return SearchRun(result, report, notes)


def write_candidates(result: SearchResult, path: str | Path, n: int) -> Path:
    """``probe,rank,template,subject,score,mate`` rows: each probe's ``n`` best gallery templates."""
    path = Path(path)
    n = min(n, result.candidates.shape[1])
    with atomic_open(path) as fh:
        fh.write("probe,rank,template,subject,score,mate\n")
        for i, probe in enumerate(result.probe_names.tolist()):
            for r in range(n):
                c = int(result.candidates[i, r])
                if c < 0:
                    break
                subject = result.gallery_subjects[c]
                fh.write(f"{probe},{r + 1},{result.gallery_names[c]},{subject},{result.candidate_scores[i, r]:.9g},"
                         f"{int(subject == result.probe_subjects[i])}\n")
    return path
