"""Pair metrics: baselines and learned metrics behind one API (see :mod:`facemetric.metrics.base`).

The CLI names live in the lazy registry :mod:`facemetric.registry`; ``METHODS`` and
``make_metric(name, **params)`` are re-exported here. Score normalisation, test-time
adaptation, fusion and calibration wrap these metrics in :mod:`facemetric.normalize`.
"""

from __future__ import annotations

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
from facemetric.metrics.neural.linear import NeuralLinear
from facemetric.metrics.neural.mlp import NeuralMLP
from facemetric.metrics.pca_whiten import PCAWhitening
from facemetric.metrics.plda import PLDA
from facemetric.metrics.wccn import WCCN
from facemetric.registry import CLOSED_FORM, METHODS, make_metric

__all__ = [
    "CLOSED_FORM", "KISSME", "L2", "LDA", "LDAWCCN", "METHODS", "PLDA", "WCCN", "Center", "Cosine",
    "JointBayesian", "MetricLearnITML", "MetricLearnLFDA", "MetricLearnLMNN", "MetricLearnMLKR",
    "MetricLearnNCA", "NeuralLinear", "NeuralMLP", "PCAWhitening", "PairMetric", "make_metric",
]
