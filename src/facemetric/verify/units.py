"""What a bootstrap replicate resamples: identities, folds or pairs.

Pairs that share a person are not independent, so by default the bootstrap resamples people.
A matched pair belongs to one identity; a mismatched pair joins two. Each replicate draws the
identities with replacement (counts ``W``); a pair with one identity then appears ``W[a]``
times and a pair joining ``a`` and ``b`` appears ``W[a] * W[b]`` times: every copy of ``a``
meets every copy of ``b``, as in Owen's (2007) pigeonhole bootstrap. :mod:`facemetric.verify.bootstrap`
removes the part of that product that counts a two-identity pair's own noise more than once
(see docs/evaluation.md, "Confidence intervals").

* ``"identity"``: the default whenever the identities of both sides of every pair are known.
* ``"fold"``: the protocol's folds, for protocols whose folds are identity-disjoint
  (LFW View 2, CFP). Only a few units (10), so the interval is rough.
* ``"pair"``: pairs as if independent (too narrow when pairs share people). The fallback
  when no identities are given.

Every kind is stratified by label: see :mod:`facemetric.verify.bootstrap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from facemetric.errors import ConfigError, InputError

RESAMPLE_CHOICES = ("auto", "identity", "fold", "pair")

NO_UNIT = -1  # the second side of a pair that has one identity (or one fold)


@dataclass(frozen=True)
class ResamplingUnits:
    """The unit(s) of every pair: ``ends[:, 0]`` and, for a pair joining two units, ``ends[:, 1]``
    (``NO_UNIT`` otherwise). ``ends`` is None for ``kind == "pair"``."""

    kind: str
    ends: np.ndarray | None
    n_units: int
    note: str = ""

    @property
    def joins_two(self) -> np.ndarray | None:
        """Per pair: does it join two different units (a mismatched pair of two identities)?"""
        return None if self.ends is None else self.ends[:, 1] != NO_UNIT


def _unit_codes(values: Any, n: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of labels; missing labels (None, "", NaN) are reported as a mask."""
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise InputError(f"{what} must give one identity per pair ({n}); got shape {arr.shape}")
    if arr.dtype.kind == "f":
        missing = ~np.isfinite(arr)
    elif arr.dtype.kind in "iub":
        missing = np.zeros(n, dtype=bool)
    else:
        arr = arr.astype(object)
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) or str(v) == "" for v in arr])
        arr = np.where(missing, "", arr).astype(str)
    return arr, missing


def identity_ends(groups: Any, n: int) -> tuple[np.ndarray, int]:
    """``(ends, n_units)`` from ``groups = (id_a, id_b)``, the identities of both sides of each pair.

    A side of unknown identity (None, "" or NaN) becomes an identity of its own.
    """
    if isinstance(groups, np.ndarray) and groups.ndim == 2 and groups.shape == (n, 2):
        groups = (groups[:, 0], groups[:, 1])
    if not isinstance(groups, (tuple, list)) or len(groups) != 2:
        raise InputError(
            "groups must be a pair (id_a, id_b): the identity of both sides of every pair "
            f"(two arrays of {n}); got {type(groups).__name__}"
        )
    a, miss_a = _unit_codes(groups[0], n, "groups[0] (id_a)")
    b, miss_b = _unit_codes(groups[1], n, "groups[1] (id_b)")
    if a.dtype.kind != b.dtype.kind:
        a, b = a.astype(str), b.astype(str)
    _, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    codes = codes.astype(np.int64)
    n_known = int(codes.max()) + 1 if codes.size else 0
    missing = np.concatenate([miss_a, miss_b])
    codes[missing] = n_known + np.arange(int(missing.sum()))  # each unknown side stands alone
    _, codes = np.unique(codes, return_inverse=True)  # compact again (a missing label may have coded "")
    ends = np.stack([codes[:n], codes[n:]], axis=1).astype(np.int32)
    ends[ends[:, 0] == ends[:, 1], 1] = NO_UNIT
    return ends, int(codes.max()) + 1


def resampling_units(
    n_pairs: int, *, groups: Any = None, folds: Any = None, resample: str = "auto"
) -> ResamplingUnits:
    """Choose and build the resampling units; ``resample="auto"`` takes identities when given."""
    if resample not in RESAMPLE_CHOICES:
        raise ConfigError(
            f"The 'resample' parameter must be one of {', '.join(map(repr, RESAMPLE_CHOICES))}. "
            f"Got {resample!r} instead."
        )
    if resample == "auto":
        resample = "identity" if groups is not None else "pair"
        if resample == "pair":
            note = (
                "no identities given: pairs resampled as if independent, so the intervals are too "
                "narrow when pairs share people"
            )
            return ResamplingUnits("pair", None, n_pairs, note)
    if resample == "pair":
        return ResamplingUnits("pair", None, n_pairs, "pairs resampled as if independent")
    if resample == "fold":
        if folds is None:
            raise ConfigError("resample='fold' needs the protocol's folds; give folds=... or another resample")
        _, codes = np.unique(np.asarray(folds), return_inverse=True)
        ends = np.stack([codes, np.full(n_pairs, NO_UNIT)], axis=1).astype(np.int32)
        k = int(codes.max()) + 1
        return ResamplingUnits("fold", ends, k, f"{k} folds resampled (valid when they are identity-disjoint)")
    if groups is None:
        raise ConfigError(
            "resample='identity' needs the identities of both sides of every pair: give groups=(id_a, id_b)"
        )
    ends, k = identity_ends(groups, n_pairs)
    n_two = int(np.count_nonzero(ends[:, 1] != NO_UNIT))
    return ResamplingUnits(
        "identity", ends, k, f"{k} identities resampled; {n_two} pairs join two identities"
    )
