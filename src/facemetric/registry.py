"""The method registry: the CLI name of every pair metric, as a lazy ``"module:Class"`` entry.

A leaf of the package graph: it imports no metric until one is asked for (as scikit-learn's
``all_estimators`` discovers estimators lazily), so any layer may look a method up without
pulling in the others, and metric modules may use :func:`make_metric` for the metrics they
wrap without an import cycle.

* ``METHODS[name]`` is the class (imported on first use); ``name in METHODS`` imports nothing.
* ``METHODS[name] = cls`` registers a class (tests and plugins); ``METHODS.entry(name)`` is the
  ``"module:Class"`` string.
* ``make_metric(name, **params)`` builds one, refusing unknown names and parameters.

Add a method by writing one file with one class and adding one line to :data:`ENTRIES`.
Optional dependencies (metric-learn, torch) are imported only when a method is fitted.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

from facemetric.errors import ConfigError

ENTRIES: dict[str, str] = {
    # baselines and learned projections / two-covariance models (facemetric.metrics)
    "cosine": "facemetric.metrics.cosine:Cosine",
    "l2": "facemetric.metrics.l2:L2",
    "center": "facemetric.metrics.center:Center",
    "pca-whiten": "facemetric.metrics.pca_whiten:PCAWhitening",
    "lda": "facemetric.metrics.lda:LDA",
    "wccn": "facemetric.metrics.wccn:WCCN",
    "lda-wccn": "facemetric.metrics.lda_wccn:LDAWCCN",
    "joint-bayes": "facemetric.metrics.joint_bayes:JointBayesian",
    "plda": "facemetric.metrics.plda:PLDA",
    "pose-plda": "facemetric.metrics.pose_plda:PosePLDA",
    "kissme": "facemetric.metrics.kissme:KISSME",
    "ml-itml": "facemetric.metrics.metric_learn_adapters:MetricLearnITML",
    "ml-lmnn": "facemetric.metrics.metric_learn_adapters:MetricLearnLMNN",
    "ml-nca": "facemetric.metrics.metric_learn_adapters:MetricLearnNCA",
    "ml-mlkr": "facemetric.metrics.metric_learn_adapters:MetricLearnMLKR",
    "ml-lfda": "facemetric.metrics.metric_learn_adapters:MetricLearnLFDA",
    "neural-linear": "facemetric.metrics.neural.linear:NeuralLinear",
    "neural-mlp": "facemetric.metrics.neural.mlp:NeuralMLP",
    "neural-pose": "facemetric.metrics.neural.pose_head:NeuralPose",
    # score normalisation, test-time adaptation, fusion, calibration (facemetric.normalize)
    "z-norm": "facemetric.normalize.cohort_norm:ZNorm",
    "t-norm": "facemetric.normalize.cohort_norm:TNorm",
    "s-norm": "facemetric.normalize.cohort_norm:SNorm",
    "as-norm": "facemetric.normalize.cohort_norm:ASNorm",
    "cohort-norm": "facemetric.normalize.cohort_norm:CohortNorm",
    "pose-norm": "facemetric.normalize.pose_cohort:PoseCohortNorm",
    "test-center": "facemetric.normalize.test_center:TestCenter",
    "k-reciprocal": "facemetric.normalize.rerank:KReciprocalRerank",
    "pseudo-id": "facemetric.normalize.pseudo_identity:PseudoIdentity",
    "plda-adapt": "facemetric.normalize.plda_adapt:PLDAAdapt",
    "coral": "facemetric.normalize.coral:CORAL",
    "fusion": "facemetric.normalize.fusion:WeightedFusion",
    "pose-fusion": "facemetric.normalize.pose_fusion:PoseFusion",
    "calibrated": "facemetric.normalize.calibrated:Calibrated",
}

#: The closed-form / classical learned metrics (timed by benchmarks/bench_fit.py).
CLOSED_FORM = ("center", "pca-whiten", "lda", "wccn", "lda-wccn", "joint-bayes", "plda", "kissme")


class MethodRegistry(MutableMapping):
    """Name -> class, where a value may still be a ``"module:Class"`` string (imported on access)."""

    def __init__(self, entries: dict[str, Any]) -> None:
        self._entries: dict[str, Any] = dict(entries)

    def __getitem__(self, name: str) -> type:
        value = self._entries[name]
        if isinstance(value, str):
            module, _, attr = value.partition(":")
            value = getattr(importlib.import_module(module), attr)
            self._entries[name] = value
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        self._entries[name] = value

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, name: str) -> str:
        """``"module:Class"`` of a registered name, without importing it."""
        value = self._entries[name]
        return value if isinstance(value, str) else f"{value.__module__}:{value.__qualname__}"

    def __repr__(self) -> str:
        return f"MethodRegistry({', '.join(self._entries)})"


METHODS = MethodRegistry(ENTRIES)


def make_metric(name: str, **params: Any) -> Any:
    """Build the metric registered as ``name`` with hyperparameters ``params``."""
    if name not in METHODS:
        raise ConfigError(f"unknown metric {name!r}; known metrics: {', '.join(METHODS)}")
    cls = METHODS[name]
    valid = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ConfigError(
            f"metric {name!r} has no parameter {unknown[0]!r}; its parameters are: "
            f"{', '.join(valid) or '(none)'}"
        )
    return cls(**params)


__all__ = ["CLOSED_FORM", "ENTRIES", "METHODS", "MethodRegistry", "make_metric"]
