"""The one threshold facility: where to put "accept when score >= threshold", by accuracy or by FAR.

* ``"accuracy"``: the threshold that maximises accuracy on the given pairs (the midpoint between
  two neighbouring distinct scores; :func:`facemetric.verify.accuracy.best_threshold`, which
  k-fold accuracy applies fold by fold on the other folds);
* ``"far"``: the lowest threshold whose false accept rate on the given pairs is at most the
  target (:func:`operating_thresholds`, one entry per target FAR, with the TAR it gives).

Thresholds are measured on labelled pairs that are not the test pairs (calibration pairs of
the training identities, or the other folds). :func:`save_thresholds` exports them as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.errors import ConfigError, InputError
from facemetric.io.atomic import write_text_atomic
from facemetric.verify.accuracy import best_threshold
from facemetric.verify.curves import DEFAULT_FARS

STRATEGIES = ("accuracy", "far")


def choose_threshold(y_true: Any, y_score: Any, strategy: str = "accuracy", *, far: float | None = None) -> float:
    """One threshold on these pairs: the accuracy-maximising one, or the lowest with FAR <= ``far``."""
    if strategy == "accuracy":
        if far is not None:
            raise ConfigError("The 'far' parameter applies to strategy='far' only; drop it or choose 'far'")
        return best_threshold(y_true, y_score)
    if strategy == "far":
        if far is None:
            raise ConfigError("strategy='far' needs the 'far' target, e.g. far=1e-3")
        return operating_thresholds(y_score, y_true, (far,))[0]["threshold"]
    raise ConfigError(f"The 'strategy' parameter must be one of {', '.join(STRATEGIES)}. Got {strategy!r} instead.")


def operating_thresholds(scores: Any, same: Any, fars: Any = DEFAULT_FARS) -> list[dict[str, Any]]:
    """For each target FAR, the lowest threshold whose false accept rate is at most the target.

    A pair is accepted when ``score >= threshold``. Each entry holds ``far`` (the target),
    ``threshold``, ``tar`` and ``far_measured`` on the given pairs, and ``below_resolution``
    when the target is below 1 / (number of impostor pairs): then the threshold only says
    "above every impostor seen" and the true FAR is unknown.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    t = np.asarray(same).ravel()
    if s.shape != t.shape:
        raise InputError(f"thresholds got {s.size} scores but {t.size} labels")
    if not np.isfinite(s).all():
        raise InputError("threshold scores contain NaN or inf")
    if not np.isin(t, (0, 1)).all() or np.unique(t).size != 2:
        raise InputError("threshold labels must be 0/1 and contain both genuine and impostor pairs")
    fars = np.atleast_1d(np.asarray(fars, dtype=np.float64))
    if fars.size == 0 or not ((fars > 0) & (fars < 1)).all():
        raise ConfigError(f"FAR targets must be in (0, 1). Got {fars.tolist()} instead.")
    neg = np.sort(s[t == 0])[::-1]
    pos = s[t == 1]
    entries = []
    for far in fars:
        allowed = int(np.floor(far * neg.size + 1e-9))
        if allowed >= neg.size:
            threshold = float(neg[-1])
        else:
            threshold = float(np.nextafter(neg[allowed], np.inf))
        entries.append({
            "far": float(far),
            "threshold": threshold,
            "tar": float(np.mean(pos >= threshold)),
            "far_measured": float(np.mean(neg >= threshold)),
            "n_genuine": int(pos.size),
            "n_impostor": int(neg.size),
            "below_resolution": bool(far * neg.size < 1),
        })
    return entries


def save_thresholds(path: str | Path, entries: list[dict[str, Any]], **meta: Any) -> Path:
    """Write ``{"accept_if": "score >= threshold", "thresholds": entries, **meta}`` as JSON, atomically."""
    path = Path(path)
    doc = {"accept_if": "score >= threshold", **meta, "thresholds": entries}
    write_text_atomic(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return path
