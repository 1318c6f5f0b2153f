"""Metric specs and the nesting of a fitted metric inside a wrapper, saved without pickle.

A wrapper keeps its fitted inner metric in a private attribute and mirrors the inner
learned attributes as ``<slot>__<name>_`` on itself, so that
:func:`facemetric.metrics.persist.save_model` stores them like its own; ``_after_load``
rebuilds the inner metric from the spec and those attributes.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import clone

from facemetric.errors import ConfigError, NotFittedError
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


class WrapperMixin:
    """Keep fitted inner metrics in ``self._inner[slot]`` and mirror their learned state."""

    def _set_inner(self, slot: str, metric: PairMetric) -> None:
        if not hasattr(self, "_inner"):
            self._inner = {}
        self._inner[slot] = metric
        for key, value in vars(metric).items():
            if key.endswith("_") and not key.startswith("_"):
                setattr(self, f"{slot}__{key}", value)

    def _get_inner(self, slot: str) -> PairMetric:
        inner = getattr(self, "_inner", {})
        if slot not in inner:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() or load a model first")
        return inner[slot]

    def _restore_inner(self, slot: str, spec: Any) -> None:
        metric = build_metric(spec)
        prefix = f"{slot}__"
        for key, value in list(vars(self).items()):
            if key.startswith(prefix):
                setattr(metric, key[len(prefix):], value)
        after = getattr(metric, "_after_load", None)
        if after is not None:
            after()
        if not hasattr(self, "_inner"):
            self._inner = {}
        self._inner[slot] = metric
