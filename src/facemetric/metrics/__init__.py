"""Pair metrics: baselines and learned metrics behind one API (see :mod:`facemetric.metrics.base`).

``METHODS`` maps the CLI name of each method to its class. Add a method by writing one
file with one class and registering it here. ``make_metric(name, **params)`` builds one.
Optional dependencies (metric-learn, torch) are imported only when a method is fitted.
"""

from __future__ import annotations

from typing import Any

from facemetric.errors import ConfigError
from facemetric.metrics.base import PairMetric
from facemetric.metrics.center import Center
from facemetric.metrics.cosine import Cosine
from facemetric.metrics.joint_bayes import JointBayesian
from facemetric.metrics.kissme import KISSME
from facemetric.metrics.l2 import L2
from facemetric.metrics.lda import LDA
from facemetric.metrics.lda_wccn import LDAWCCN
from facemetric.metrics.metric_learn_adapters import (
    MetricLearnITML,
    MetricLearnLFDA,
    MetricLearnLMNN,
    MetricLearnMLKR,
    MetricLearnNCA,
)
from facemetric.metrics.pca_whiten import PCAWhitening
from facemetric.metrics.plda import PLDA
from facemetric.metrics.wccn import WCCN

METHODS: dict[str, type[PairMetric]] = {
    "cosine": Cosine,
    "l2": L2,
    "center": Center,
    "pca-whiten": PCAWhitening,
    "lda": LDA,
    "wccn": WCCN,
    "lda-wccn": LDAWCCN,
    "joint-bayes": JointBayesian,
    "plda": PLDA,
    "kissme": KISSME,
    "ml-itml": MetricLearnITML,
    "ml-lmnn": MetricLearnLMNN,
    "ml-nca": MetricLearnNCA,
    "ml-mlkr": MetricLearnMLKR,
    "ml-lfda": MetricLearnLFDA,
}

# The closed-form / classical learned metrics (timed by benchmarks/bench_fit.py).
CLOSED_FORM = ("center", "pca-whiten", "lda", "wccn", "lda-wccn", "joint-bayes", "plda", "kissme")


def make_metric(name: str, **params: Any) -> PairMetric:
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


__all__ = ["CLOSED_FORM", "METHODS", "PairMetric", "make_metric"] + sorted(
    {cls.__name__ for cls in METHODS.values()}
)

# Neural heads, score normalisation, test-time adaptation, fusion and calibration (issue 4).
from facemetric.metrics.neural.linear import NeuralLinear  # noqa: E402
from facemetric.metrics.neural.mlp import NeuralMLP  # noqa: E402
from facemetric.normalize.registry import NORMALIZE_METHODS  # noqa: E402
METHODS.update({"neural-linear": NeuralLinear, "neural-mlp": NeuralMLP, **NORMALIZE_METHODS})
