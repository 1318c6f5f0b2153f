"""Pick how a metric scores templates: pooled descriptors, or PLDA's native multi-sample ratio."""

from __future__ import annotations

from typing import Any

from facemetric.errors import ConfigError
from facemetric.metrics.plda import PLDA
from facemetric.templates.plda_sets import PLDASetScorer
from facemetric.templates.pooling import PooledScorer

POOLINGS = ("auto", "mean", "native")


def make_set_scorer(metric: Any, pooling: str = "auto") -> PooledScorer | PLDASetScorer:
    """``mean``: pool each template (media, then template) and score it as an image; ``native``: PLDA's exact
    multi-sample likelihood ratio; ``auto``: native for PLDA, mean otherwise. Transductive metrics are refused."""
    if pooling not in POOLINGS:
        raise ConfigError(f"The 'pooling' parameter must be one of {', '.join(POOLINGS)}. Got {pooling!r} instead.")
    if getattr(metric, "transductive", False):
        raise ConfigError(
            f"{type(metric).__name__} is transductive: its scores depend on the whole test set, so templates cannot "
            "be scored against a gallery one block at a time; use an inductive metric"
        )
    if pooling == "native" or (pooling == "auto" and isinstance(metric, PLDA)):
        return PLDASetScorer(metric)
    return PooledScorer(metric)
