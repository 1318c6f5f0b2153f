"""The one JSON sanitiser: numpy values and containers to plain JSON values."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def jsonable(obj: Any, *, strict: bool = False) -> Any:
    """``obj`` as plain JSON values: dict keys as str, tuples and arrays as lists, numpy scalars unwrapped.

    By default NaN and inf become ``None`` (strict JSON) and any other type becomes ``str(obj)``.
    With ``strict`` (model files, which must round-trip), floats are kept as they are, and an
    array, a dict with a non-str key or a value of another type raises ``TypeError`` whose
    argument is the offending type's name.
    """
    if isinstance(obj, dict):
        if strict and not all(isinstance(k, str) for k in obj):
            raise TypeError("dict with non-str keys")
        return {str(k): jsonable(v, strict=strict) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        if strict:
            raise TypeError(type(obj).__name__)
        obj = obj.tolist()
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, strict=strict) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not strict and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if strict:
        raise TypeError(type(obj).__name__)
    return str(obj)
