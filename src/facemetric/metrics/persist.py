"""Save and load fitted metrics in an open format: ``model.json`` + ``arrays.npz``. Never pickle.

``model.json`` holds the class, the hyperparameters, every learned non-array attribute
(``n_features_in_``, ``provenance_``...), the versions and the fit time, plus the name,
shape, dtype and SHA-256 of the arrays. ``arrays.npz`` holds the learned array
attributes (names ending in ``_``). ``arrays.npz`` is written first and ``model.json``
last, both atomically, so a model folder is either complete or refused on load.

Only classes registered in :data:`facemetric.registry.METHODS` can be loaded.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.errors import ConfigError, InputError, bad_file
from facemetric.io.atomic import atomic_path, write_text_atomic

FORMAT = "facemetric-model"
FORMAT_VERSION = 1
MODEL_JSON = "model.json"
ARRAYS_NPZ = "arrays.npz"


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _known_classes() -> dict[str, tuple[str, type]]:
    from facemetric.registry import METHODS

    return {_class_path(cls): (name, cls) for name, cls in METHODS.items()}


def _to_json_value(value: Any, what: str) -> Any:
    """Plain JSON value for ``value`` or raise naming the attribute."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_to_json_value(v, what) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _to_json_value(v, what) for k, v in value.items()}
    raise ConfigError(f"{what} is a {type(value).__name__}, which model.json cannot hold; "
                      "store learned state as arrays or plain values")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _versions() -> dict[str, str]:
    import scipy
    import sklearn

    import facemetric

    return {"facemetric": facemetric.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__}


def save_model(metric: Any, model_dir: str | Path) -> Path:
    """Write a fitted metric to ``model_dir`` (created if needed); return the folder."""
    if not hasattr(metric, "n_features_in_"):
        raise InputError(f"{type(metric).__name__} is not fitted; fit it before saving")
    known = _known_classes()
    cls_path = _class_path(type(metric))
    if cls_path not in known:
        raise ConfigError(
            f"{cls_path} is not registered in facemetric.registry.METHODS; register it to save it"
        )
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)

    params = {k: _to_json_value(v, f"parameter {k!r}") for k, v in metric.get_params(deep=False).items()}
    arrays: dict[str, np.ndarray] = {}
    state: dict[str, Any] = {}
    for key, value in vars(metric).items():
        if not key.endswith("_") or key.startswith("_"):
            continue
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise ConfigError(
                    f"learned attribute {key!r} is an object array; model files never hold pickles"
                )
            arrays[key] = value
        else:
            state[key] = _to_json_value(value, f"learned attribute {key!r}")

    npz_path = model_dir / ARRAYS_NPZ
    with atomic_path(npz_path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": cls_path,
        "method": known[cls_path][0],
        "params": params,
        "n_features_in": int(metric.n_features_in_),
        "provenance": state.get("provenance_"),
        "state": state,
        "arrays": {k: {"shape": list(v.shape), "dtype": v.dtype.str} for k, v in arrays.items()},
        "arrays_sha256": _sha256(npz_path),
        "versions": _versions(),
        "fitted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_text_atomic(model_dir / MODEL_JSON, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return model_dir


def read_model_json(model_dir: str | Path) -> dict[str, Any]:
    """The parsed ``model.json`` of a model folder (or of the file itself), validated."""
    path = Path(model_dir)
    if path.is_dir():
        path = path / MODEL_JSON
    if not path.exists():
        raise bad_file(path, "does not exist", "give a folder written by `facemetric fit` or save_model()")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_file(
            path, f"is not valid JSON ({exc})", "the model file is corrupt; fit the model again"
        ) from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise bad_file(path, f"is not a facemetric model file (format {found!r})",
                       "give a folder written by `facemetric fit`")
    if meta.get("format_version") != FORMAT_VERSION:
        raise bad_file(path, f"has format version {meta.get('format_version')!r}; this facemetric reads "
                       f"version {FORMAT_VERSION}", "fit the model again with this version")
    for key in ("class", "params", "state", "arrays", "arrays_sha256"):
        if key not in meta:
            raise bad_file(path, f"lacks the field {key!r}", "the model file is corrupt; fit the model again")
    return meta


def load_model(model_dir: str | Path) -> Any:
    """Load a metric saved by :func:`save_model`; refuses unknown classes and corrupt files."""
    meta = read_model_json(model_dir)
    folder = Path(model_dir)
    folder = folder if folder.is_dir() else folder.parent
    json_path = folder / MODEL_JSON
    known = _known_classes()
    if meta["class"] not in known:
        names = ", ".join(sorted(name for name, _ in known.values()))
        raise bad_file(json_path, f"names the unknown model class {meta['class']!r}",
                       f"facemetric loads only its own methods ({names})")
    cls = known[meta["class"]][1]
    try:
        metric = cls(**meta["params"])
    except TypeError as exc:
        raise bad_file(json_path, f"has parameters that {cls.__name__} does not take ({exc})",
                       "the model was written by another facemetric version; fit it again") from exc

    npz_path = folder / ARRAYS_NPZ
    if not npz_path.exists():
        raise bad_file(npz_path, "does not exist", "the model folder is incomplete; fit the model again")
    if _sha256(npz_path) != meta["arrays_sha256"]:
        raise bad_file(npz_path, "does not match the checksum in model.json",
                       "the model folder is corrupt or was edited; fit the model again")
    try:
        with np.load(npz_path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise bad_file(npz_path, f"is not a readable .npz file ({exc})", "fit the model again") from exc
    expected = meta["arrays"]
    if set(arrays) != set(expected):
        raise bad_file(npz_path, f"holds arrays {sorted(arrays)} but model.json lists {sorted(expected)}",
                       "the model folder is corrupt; fit the model again")
    for key, value in arrays.items():
        if list(value.shape) != expected[key]["shape"]:
            raise bad_file(npz_path,
                           f"array {key!r} has shape {value.shape}, expected {expected[key]['shape']}",
                           "the model folder is corrupt; fit the model again")
        setattr(metric, key, value)
    for key, value in meta["state"].items():
        if not key.endswith("_"):
            raise bad_file(json_path, f"has the state field {key!r}, which is not a learned attribute",
                           "the model file is corrupt; fit the model again")
        setattr(metric, key, value)
    if not hasattr(metric, "n_features_in_"):
        raise bad_file(json_path, "lacks n_features_in_", "the model file is corrupt; fit the model again")
    metric._after_load()
    return metric
