"""The registered methods grouped by family, with their parameters and defaults (``facemetric methods``).

Each class declares its ``family`` (:class:`facemetric.metrics.base.PairMetric`); a method
registered later appears in its family without any change here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

FAMILIES: dict[str, str] = {
    "baselines": "learn nothing; every report compares against them",
    "projections": "learn a linear map from training identities, then score with cosine",
    "probabilistic": "model between- and within-identity variation; score a likelihood ratio",
    "normalisation": "adjust the scores of another metric: cohort norms, fusion, calibration",
    "transductive": "also look at the test descriptors being scored (flagged in reports)",
    "neural": "train a small network head on the descriptors (extra 'torch')",
}


@dataclass(frozen=True)
class MethodInfo:
    """One registered method: its CLI name, family, one-line summary and default parameters."""

    name: str
    family: str
    summary: str
    params: dict[str, Any] = field(default_factory=dict)
    transductive: bool = False
    doc: str = ""

    def params_text(self) -> str:
        """``key=value`` pairs as ``--param`` and ``name:key=value`` specs accept them."""
        return " ".join(f"{k}={json.dumps(v)}" for k, v in self.params.items())

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "summary": self.summary, "params": self.params,
                "transductive": self.transductive}


def _plain(text: str) -> str:
    """Docstring markup removed: ``code`` -> code, :class:`X` -> X."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text)
    return text.replace("``", "")


def _summary(doc: str) -> str:
    first = doc.strip().split("\n\n")[0]
    return _plain(" ".join(line.strip() for line in first.splitlines()))


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return repr(value)


def method_info(name: str) -> MethodInfo:
    """The :class:`MethodInfo` of the method registered as ``name``."""
    import inspect

    from facemetric.errors import ConfigError
    from facemetric.metrics import METHODS

    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; `facemetric methods` lists them: {', '.join(METHODS)}")
    cls = METHODS[name]
    params = {k: _jsonable(v) for k, v in sorted(cls().get_params(deep=False).items())}
    doc = inspect.getdoc(cls) or ""
    if "\nParameters\n---" not in doc:  # documented on a base class, e.g. TwoCovarianceMetric
        base = next((d for d in (inspect.getdoc(k) or "" for k in cls.__mro__[1:] if k.__module__.startswith(
            "facemetric")) if "\nParameters\n---" in d), None)
        if base:
            doc += "\n\n" + base[base.index("Parameters\n---"):]
    return MethodInfo(name=name, family=getattr(cls, "family", "projections"), summary=_summary(doc),
                      params=params, transductive=bool(getattr(cls, "transductive", False)), doc=_plain(doc))


def method_catalog() -> dict[str, list[MethodInfo]]:
    """Every registered method, grouped by family in the order of :data:`FAMILIES` (others last)."""
    from facemetric.metrics import METHODS

    groups: dict[str, list[MethodInfo]] = {family: [] for family in FAMILIES}
    for name in METHODS:
        info = method_info(name)
        groups.setdefault(info.family, []).append(info)
    return {family: infos for family, infos in groups.items() if infos}
