"""Method specs for grids: ``name`` or ``name:key=value:key=value`` (values parsed as JSON literals)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from facemetric.errors import ConfigError


def parse_value(text: str) -> Any:
    """``3`` -> 3, ``0.5`` -> 0.5, ``true`` -> True, ``none``/``null`` -> None, ``[1,2]`` -> list, else the string."""
    low = text.strip().lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_param(text: str, what: str = "--param") -> tuple[str, Any]:
    """``key=value`` -> (key, parsed value)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"{what} must read key=value; got {text!r}")
    return key.strip(), parse_value(value)


@dataclass(frozen=True)
class MethodSpec:
    """One entry of a benchmark grid: a registered metric name and its hyperparameters."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if not self.params:
            return self.name
        return self.name + "".join(f":{k}={json.dumps(v)}" for k, v in sorted(self.params.items()))

    @property
    def transductive(self) -> bool:
        """True when the method, or any metric nested in its parameters, looks at the test descriptors."""
        from facemetric.registry import METHODS

        def nested(value: Any) -> bool:
            if isinstance(value, str):
                return value in METHODS and bool(getattr(METHODS[value], "transductive", False))
            if isinstance(value, dict):
                name = value.get("method")
                inner = {k: v for k, v in value.items() if k != "method"}
                return nested(name) or any(nested(v) for v in inner.values())
            if isinstance(value, (list, tuple)):
                return any(nested(v) for v in value)
            return False

        return nested(self.name) or any(nested(v) for v in self.params.values())

    def factory(self) -> Callable[[], Any]:
        """A zero-argument callable building a fresh metric (fails early on unknown names/params)."""
        from facemetric.registry import make_metric

        make_metric(self.name, **self.params)
        return lambda: make_metric(self.name, **self.params)


def split_top_level(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets, braces and double quotes (so JSON values may hold it)."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch in "[{":
            depth += 1
        elif not quoted and ch in "]}":
            depth -= 1
        elif not quoted and depth == 0 and ch == sep:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0 or quoted:
        raise ConfigError(f"unbalanced brackets or quotes in {text!r}")
    parts.append(text[start:])
    return parts


def parse_method_spec(text: str) -> MethodSpec:
    """``name`` or ``name:key=value:key=value``; a value may be JSON, e.g. ``metric={"method":"lda"}``."""
    parts = split_top_level(text.strip(), ":")
    name = parts[0].strip()
    if not name:
        raise ConfigError(f"empty method name in {text!r}; write name or name:key=value")
    params = dict(parse_param(p, f"method {name!r} parameter") for p in parts[1:] if p.strip())
    return MethodSpec(name=name, params=params)


def parse_methods(text: str) -> list[MethodSpec]:
    """Comma-separated method specs, duplicates removed, order kept."""
    specs: list[MethodSpec] = []
    for item in split_top_level(text, ","):
        if item.strip():
            spec = parse_method_spec(item)
            if spec.label not in {s.label for s in specs}:
                specs.append(spec)
    if not specs:
        raise ConfigError("--methods names no method; give e.g. --methods center,lda,plda")
    return specs
