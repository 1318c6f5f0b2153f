"""Declared parameter constraints and the one check that enforces them (sklearn's idea, our errors).

A class declares, once, what each hyperparameter may be::

    _parameter_constraints = {"n_components": [None, Interval("int", 1)],
                              "shrinkage": [Interval("float", 0, 1)],
                              "normalize": [bool]}

and :func:`check_params` (called by ``PairMetric.fit``) raises one :class:`ConfigError` that
reads like scikit-learn's: ``The 'shrinkage' parameter of LDA must be a float in [0, 1].
Got 2 instead.`` A constraint is ``None`` (the value None), a type (an instance of it; ``bool``
is never taken for ``int`` or ``float``), or a :class:`Constraint`. A parameter without an
entry is not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from numbers import Integral, Real
from typing import Any

from facemetric.errors import ConfigError


class Constraint:
    """A predicate on a value, with the words that describe what it accepts."""

    description = "valid"

    def ok(self, value: Any) -> bool:
        raise NotImplementedError


class Interval(Constraint):
    """An int (``kind="int"``) or a real number (``kind="float"``, ints accepted) between bounds.

    ``closed`` is "both", "left", "right" or "neither": which bounds belong to the interval.
    """

    def __init__(self, kind: str, low: float | None = None, high: float | None = None, *,
                 closed: str = "both") -> None:
        if kind not in ("int", "float") or closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"bad interval: kind={kind!r}, closed={closed!r}")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed
        self.description = self._describe()

    def _describe(self) -> str:
        what = "an int" if self.kind == "int" else "a float"
        low_in = self.closed in ("both", "left")
        high_in = self.closed in ("both", "right")
        if self.high is None:
            return f"{what} {'>=' if low_in else '>'} {self.low:g}" if self.low is not None else what
        if self.low is None:
            return f"{what} {'<=' if high_in else '<'} {self.high:g}"
        return f"{what} in {'[' if low_in else '('}{self.low:g}, {self.high:g}{']' if high_in else ')'}"

    def ok(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, Integral if self.kind == "int" else Real):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True


class Options(Constraint):
    """One of a fixed set of values."""

    def __init__(self, values: Iterable[Any]) -> None:
        self.values = tuple(values)
        self.description = "one of " + ", ".join(repr(v) for v in self.values)

    def ok(self, value: Any) -> bool:
        return isinstance(value, str | int | float | bool | None) and value in self.values


class Satisfies(Constraint):
    """Any value for which ``predicate`` is true, described by ``description``."""

    def __init__(self, predicate: Callable[[Any], bool], description: str) -> None:
        self.predicate = predicate
        self.description = description

    def ok(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False


def _accepts(constraint: Any, value: Any) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, type):
        if constraint in (int, float) and isinstance(value, bool):
            return False
        return isinstance(value, constraint)
    return constraint.ok(value)


def _describe(constraint: Any) -> str:
    if constraint is None:
        return "None"
    if isinstance(constraint, type):
        name = constraint.__name__
        return f"an {name}" if name[0] in "aeiou" else f"a {name}"
    return constraint.description


def check_params(owner: str, params: dict[str, Any], constraints: dict[str, list[Any]]) -> None:
    """Raise :class:`ConfigError` naming the first parameter of ``owner`` that no constraint accepts.

    ``owner`` ("LDA") is named in the message unless empty.

    Names absent from ``params`` are skipped (a subclass may fix a parameter of its base).
    """
    for name, allowed in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if not any(_accepts(c, value) for c in allowed):
            words = [_describe(c) for c in allowed]
            expected = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
            of = f" of {owner}" if owner else ""
            raise ConfigError(f"The {name!r} parameter{of} must be {expected}. Got {value!r} instead.")
