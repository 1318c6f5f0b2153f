"""Metric specs: how a wrapper names the metric it wraps.

A spec is a registered name (``"lda"``), a dict ``{"method": "lda", **params}`` or a
PairMetric instance. A wrapper builds its inner metric with :func:`build_metric` in ``fit`` and
keeps the fitted one as a learned attribute (``base_``, or ``members_`` for a fusion), which
:func:`facemetric.metrics.persist.save_model` saves recursively, with its own class, parameters
and arrays.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import clone

from facemetric.errors import ConfigError
from facemetric.metrics.base import PairMetric
from facemetric.registry import make_metric


def build_metric(spec: Any, what: str = "metric") -> PairMetric:
    """A fresh, unfitted metric from a spec: a name, ``{"method": name, **params}`` or an instance."""
    if isinstance(spec, PairMetric):
        return clone(spec)
    if isinstance(spec, str):
        return make_metric(spec)
    if isinstance(spec, dict):
        params = dict(spec)
        name = params.pop("method", None)
        if not isinstance(name, str):
            raise ConfigError(f"The '{what}' spec {spec!r} needs a 'method' key naming a registered metric")
        return make_metric(name, **params)
    raise ConfigError(
        f"The '{what}' parameter must be a method name, a dict with a 'method' key, or a PairMetric. "
        f"Got {spec!r} instead."
    )


def spec_name(spec: Any) -> str:
    """A short readable name for a metric spec."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        extra = ",".join(f"{k}={v}" for k, v in spec.items() if k != "method")
        return f"{spec.get('method')}({extra})" if extra else str(spec.get("method"))
    return type(spec).__name__
