"""A metric ready to score descriptor sets that belong together (a gallery and probes, one set against itself).

The setup of ``facemetric search``, ``all-pairs`` and ``templates verify``, on the driver's helpers
(:func:`~facemetric.experiments.driver.make_method`, ``learns_something``, ``model_flip``).

The flips are fused the same way in every set; the sets must come from one pipeline (same
backbone and dimension), and a saved model must have been fitted on that pipeline. A method
named by ``--method`` that learns nothing is used as is; one that learns is fitted on ``train``
(descriptors of other people), never on the sets it will score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.errors import ConfigError, InputError
from facemetric.experiments.driver import FLIP_CHOICES, learns_something, make_method, model_flip
from facemetric.types import DescriptorSet, Provenance


def _backbone(prov: Provenance) -> str | None:
    """The recorded backbone, or None when unknown or only guessed from a file name (reference layout)."""
    if prov.backbone == "unknown" or prov.extra.get("source") == "reference-npz":
        return None
    return prov.backbone


def pipeline_mismatch(a: Provenance, b: Provenance) -> str | None:
    """Why descriptors with provenance ``a`` and ``b`` cannot be compared, or None."""
    ba, bb = _backbone(a), _backbone(b)
    if ba is not None and bb is not None and ba != bb:
        return f"backbone={ba!r} against backbone={bb!r}"
    fa, fb = a.flip_fusion, b.flip_fusion
    if "unknown" not in (fa, fb) and fa != fb:
        return f"flip_fusion={fa!r} against flip_fusion={fb!r}"
    return None


def fuse(ds: DescriptorSet, flip: str, what: str) -> DescriptorSet:
    """``ds`` with its flips fused by ``flip`` ("auto": sum when it has flipped descriptors); a set fused
    already (sum or concat recorded, no flipped descriptors left) is kept as it is."""
    done = ds.provenance.flip_fusion if ds.X_flip is None and ds.provenance.flip_fusion in ("sum", "concat") else None
    if done is not None:
        if flip in ("auto", done):
            return ds
        raise InputError(f"{what} holds descriptors fused already with flip {done!r}; use --flip {done} or auto")
    if flip == "auto":
        flip = "sum" if ds.X_flip is not None else "none"
    return ds.fused(flip)


@dataclass
class ReadyMetric:
    """The fitted metric, the fused sets in the order given, what was done and the config to report."""

    metric: Any
    sets: list[DescriptorSet]
    notes: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def ready_metric(
    sets: list[tuple[DescriptorSet, str]],
    *,
    method: str | None = None,
    model_dir: str | Path | None = None,
    train: DescriptorSet | None = None,
    flip: str | None = None,
    fit_on_first: bool = False,
) -> ReadyMetric:
    """Check the ``(descriptors, name)`` sets against each other and against the metric; fuse; fit if needed.

    A method that learns is fitted on ``train``; without it, ``fit_on_first`` fits it on the first set
    (a 1:N gallery: its enrolled people, never the probes) and says so in the notes, else it is an error.
    """
    if method is not None and model_dir is not None:
        raise ConfigError("give either --method (a method name) or --model (a fitted model folder), not both")
    metric = make_method(method or "cosine", model_dir)
    if flip is None:
        flip = model_flip(metric) if model_dir is not None else "auto"
    if flip not in FLIP_CHOICES:
        raise ConfigError(f"The '--flip' option must be one of {', '.join(FLIP_CHOICES)}. Got {flip!r} instead.")
    fused = [fuse(ds, flip, name) for ds, name in sets]
    first, first_name = fused[0], sets[0][1]
    for ds, (_, name) in zip(fused[1:], sets[1:]):
        if ds.dim != first.dim:
            raise InputError(f"{name} has {ds.dim}-d descriptors but {first_name} has {first.dim}-d ones; give "
                             "descriptors from the same backbone and flip fusion")
        why = pipeline_mismatch(first.provenance, ds.provenance)
        if why:
            raise InputError(f"{first_name} and {name} come from different pipelines ({why}); compare descriptors "
                             "of one backbone")
    notes: list[str] = []
    if model_dir is not None:
        if train is not None:
            raise ConfigError("--train fits a method; a model from --model is already fitted: drop one of them")
        trained = Provenance.from_dict(getattr(metric, "provenance_", None) or {})
        for ds, (_, name) in zip(fused, sets):
            metric._check_dim(ds.X[:1], name)
            why = pipeline_mismatch(trained, ds.provenance)
            if why:
                raise InputError(f"the model in {model_dir} was fitted on other descriptors than {name} ({why}); fit "
                                 "a model on descriptors from the same pipeline")
        notes.append(f"metric loaded from {model_dir}")
    elif learns_something(metric):
        if train is None and not fit_on_first:
            raise ConfigError(f"method {method!r} learns from data: give --train DESCRIPTORS (people outside the "
                              "sets it scores), or fit it with `facemetric fit` and pass --model DIR")
        if train is None:
            metric.fit_descriptors(first)
            notes.append(f"{method} fitted on the {len(first)} images of {np.unique(first.labels).size} identities "
                         f"of the {first_name} (no --train): the metric has seen the enrolled people, never the "
                         "probes; give --train with other people for a metric fitted elsewhere")
        else:
            train_fused = fuse(train, flip, "the --train descriptors")
            if train_fused.dim != first.dim or pipeline_mismatch(train_fused.provenance, first.provenance):
                raise InputError(f"the --train descriptors do not match {first_name} (dimension or backbone); train "
                                 "on descriptors from the same pipeline")
            metric.fit_descriptors(train_fused)
            shared = np.intersect1d(train_fused.labels, np.concatenate([ds.labels for ds in fused]))
            shared = shared[shared != ""]
            notes.append(f"{method} fitted on {len(train_fused)} training descriptors of "
                         f"{np.unique(train_fused.labels).size} identities")
            if shared.size:
                notes.append(f"warning: {shared.size} training identities also appear in the scored sets (e.g. "
                             f"{str(shared[0])!r}); the figures are optimistic")
    else:
        if train is not None:
            notes.append(f"{method or 'cosine'} learns nothing: --train was not used")
        metric.fit(first.X[:1])
    config = {"method": type(metric).__name__ if model_dir is not None else (method or "cosine"),
              "model": None if model_dir is None else str(model_dir), "flip": first.provenance.flip_fusion,
              "provenance": first.provenance.to_dict()}
    return ReadyMetric(metric, fused, notes, config)
