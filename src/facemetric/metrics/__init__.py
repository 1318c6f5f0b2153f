"""Pair metrics: baselines and learned metrics behind one API (see :mod:`facemetric.metrics.base`).

``METHODS`` maps the CLI name of each method to its class. Add a method by writing one
file with one class and registering it here.
"""

from facemetric.metrics.base import PairMetric
from facemetric.metrics.cosine import Cosine
from facemetric.metrics.l2 import L2

METHODS: dict[str, type[PairMetric]] = {
    "cosine": Cosine,
    "l2": L2,
}

__all__ = ["METHODS", "Cosine", "L2", "PairMetric"]
