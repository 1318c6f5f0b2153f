"""A cache of protocol scores on disk, so that an interrupted benchmark resumes where it stopped.

Each entry is one ``.npz`` (scores, labels, folds and a JSON ``meta``) keyed by a fingerprint
of everything the scores depend on: the method and its parameters, the source file of its
class, facemetric's version, the descriptors and the protocol. A stale or damaged entry is
simply recomputed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.io.atomic import atomic_path
from facemetric.experiments.specs import MethodSpec
from facemetric.experiments.scores import ProtocolScores
from facemetric.types import DescriptorSet, PairProtocol


def data_fingerprint(*parts: Any) -> str:
    """SHA-256 over arrays and JSON-able values: what a cached score depends on."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            arr = np.ascontiguousarray(part)
            h.update(str((arr.dtype.str, arr.shape)).encode())
            h.update(arr.tobytes() if arr.dtype.kind != "U" else "\n".join(arr.tolist()).encode())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()


def method_code_version(name: str) -> str:
    """facemetric's version and a hash of the source files of the method's class and its facemetric bases.

    A change to the method's code (or to a base class it inherits from) refuses stale cached scores.
    """
    import inspect

    import facemetric
    from facemetric.registry import METHODS

    h = hashlib.sha256()
    cls = METHODS.get(name)
    for klass in inspect.getmro(cls) if cls is not None else ():
        if not klass.__module__.startswith("facemetric."):
            continue
        try:
            h.update(Path(inspect.getsourcefile(klass) or "").read_bytes())
        except (OSError, TypeError):
            continue
    return facemetric.__version__ + ":" + h.hexdigest()[:16]


#: The k-fold rule the cached scores follow (docs/protocols.md): entries of an older rule are recomputed.
KFOLD_RULE = "kfold-rule-2: each fold's threshold chosen by its own model on its training folds' pairs"


def scores_fingerprint(spec: MethodSpec, test: DescriptorSet, protocol: PairProtocol,
                       train: DescriptorSet | None) -> str:
    parts: list[Any] = [KFOLD_RULE, spec.name, spec.params, method_code_version(spec.name), protocol.images, protocol.pairs,
                        protocol.pair_ids, test.X, test.ids, test.labels]
    if protocol.folds is not None:
        parts.append(protocol.folds)
    if train is not None:
        parts += [train.X, train.ids, train.labels]
    return data_fingerprint(*parts)


def cache_name(label: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_.=" else "_" for c in label)
    return keep[:80] + "-" + hashlib.sha1(label.encode()).hexdigest()[:8]


def load_cached(path: Path, fingerprint: str) -> ProtocolScores | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as d:
            meta = json.loads(str(d["meta"]))
            if meta.get("fingerprint") != fingerprint:
                return None
            return ProtocolScores(
                method=meta["method"], scores=d["scores"], labels=d["labels"] if "labels" in d else None,
                folds=d["folds"] if "folds" in d else None, mode=meta["mode"], transductive=meta["transductive"],
                fit_seconds=meta["fit_seconds"], score_seconds=meta["score_seconds"], n_train=meta["n_train"],
                fold_auc=meta["fold_auc"],
                threshold_folds=d["threshold_folds"] if "threshold_folds" in d else None,
                fold_thresholds=d["fold_thresholds"] if "fold_thresholds" in d else None,
            )
    except (OSError, ValueError, KeyError):
        return None  # a damaged cache entry is recomputed


def save_cached(path: Path, fingerprint: str, ps: ProtocolScores) -> None:
    meta = {"fingerprint": fingerprint, "method": ps.method, "mode": ps.mode, "transductive": ps.transductive,
            "fit_seconds": ps.fit_seconds, "score_seconds": ps.score_seconds, "n_train": ps.n_train,
            "fold_auc": ps.fold_auc}
    arrays: dict[str, np.ndarray] = {"scores": ps.scores, "meta": np.array(json.dumps(meta))}
    if ps.labels is not None:
        arrays["labels"] = ps.labels
    if ps.folds is not None:
        arrays["folds"] = ps.folds
    if ps.threshold_folds is not None and ps.fold_thresholds is not None:
        arrays["threshold_folds"], arrays["fold_thresholds"] = ps.threshold_folds, ps.fold_thresholds
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
