"""1:1 verification of template pairs (IJB-B/C style): pool or score sets natively, then evaluate honestly."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from facemetric.errors import ProtocolError
from facemetric.io import load_descriptors
from facemetric.io.atomic import atomic_open
from facemetric.experiments.sets import ready_metric
from facemetric.templates.groups import Groups
from facemetric.templates.ijb import load_template_map, quality_weights, read_template_pair_label
from facemetric.templates.protocol import TemplateMap, TemplatePairs
from facemetric.templates.scorers import make_set_scorer
from facemetric.types import DescriptorSet
from facemetric.verify import evaluate_scores
from facemetric.verify.evaluation import VerificationResult

CHUNK = 1 << 15


def score_template_pairs(
    scorer: Any, descriptors: DescriptorSet, tmap: TemplateMap, pairs: TemplatePairs,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Score of every template pair (higher = same subject), float64, in pair order.

    Only the templates the pairs name are encoded; each must have at least one image in ``tmap``
    and every image a descriptor.
    """
    used = tmap.restricted_to(np.concatenate([pairs.t1, pairs.t2]))
    groups = Groups.from_map(used, descriptors, weights)
    E = np.asarray(scorer.encode(descriptors.X, groups))
    tids = groups.names.astype(np.int64)
    a, b = np.searchsorted(tids, pairs.t1), np.searchsorted(tids, pairs.t2)
    out = np.empty(len(pairs))
    for lo in range(0, out.size, CHUNK):
        sl = slice(lo, lo + CHUNK)
        out[sl] = scorer.score_prepared(E[a[sl]], E[b[sl]])
    return out


def write_template_scores(pairs: TemplatePairs, scores: np.ndarray, path: str | Path) -> Path:
    """``template_1,template_2,label,score`` rows in pair order, written atomically."""
    path = Path(path)
    labels = pairs.labels if pairs.labels is not None else np.full(len(pairs), -1)
    with atomic_open(path) as fh:
        fh.write("template_1,template_2,label,score\n")
        for a, b, y, s in zip(pairs.t1.tolist(), pairs.t2.tolist(), labels.tolist(), scores.tolist()):
            fh.write(f"{a},{b},{y},{s:.9g}\n")
    return path


@dataclass
class TemplateRun:
    scores: np.ndarray
    pairs: TemplatePairs
    result: VerificationResult
    notes: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def run_template_verification(
    descriptors_path: str | Path, templates_path: str | Path, pairs_path: str | Path, *,
    method: str | None = None, model_dir: str | Path | None = None, train_path: str | Path | None = None,
    flip: str | None = None, pooling: str = "auto", quality: str | Path | None = None, n_bootstrap: int = 1000,
    seed: int = 0, progress: Callable[[int], None] | None = None,
) -> TemplateRun:
    """Load, score every template pair and evaluate it (AUC, k-fold accuracy, EER, TAR@FAR down to 1e-6)."""
    pairs = read_template_pair_label(pairs_path)
    if pairs.labels is None:
        raise ProtocolError(f"{pairs_path}: the pairs have no labels, so they can be scored but not evaluated")
    tmap = load_template_map(templates_path)
    descriptors = load_descriptors(descriptors_path)
    train = None if train_path is None else load_descriptors(train_path)
    ready = ready_metric([(descriptors, str(descriptors_path))], method=method, model_dir=model_dir, train=train,
                         flip=flip)
    fused = ready.sets[0]  # subjects are not needed: the pair file holds the labels
    weights = None if quality is None else quality_weights(quality, fused, str(descriptors_path))
    scorer = make_set_scorer(ready.metric, pooling)
    scores = score_template_pairs(scorer, fused, tmap, pairs, weights)
    result = evaluate_scores(pairs.labels, scores, None, n_bootstrap=n_bootstrap, seed=seed, progress=progress)
    config = {**ready.config, "descriptors": str(descriptors_path), "templates": str(templates_path),
              "pairs": str(pairs_path), "set_scoring": "plda-native" if scorer.native else "mean-pooling",
              "quality": None if quality is None else str(quality), "n_bootstrap": n_bootstrap, "seed": seed}
    return TemplateRun(scores, pairs, result, ready.notes, config)
