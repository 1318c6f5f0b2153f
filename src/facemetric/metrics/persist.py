"""Save and load fitted metrics in an open format: ``model.json`` + ``arrays.npz``. Never pickle.

``model.json`` holds the class, the hyperparameters, every learned non-array attribute
(``n_features_in_``, ``provenance_``...), the versions and the fit time, plus the name,
shape and dtype of the arrays and the SHA-256 of ``arrays.npz``, which holds the learned
array attributes (names ending in ``_``). ``arrays.npz`` is written first and ``model.json``
last, both atomically, so a model folder is either complete or refused on load.

**Nested metrics** (the metric a normaliser wraps, ``base_``; the members of a fusion,
``members_``) are learned attributes too, and are saved recursively: ``model.json`` describes
each one under ``"metrics"`` (its own class, parameters, state and arrays), and its arrays sit
in the same ``arrays.npz`` under the attribute path, e.g. ``base_/mean_`` or
``members_/1/components_``. Any depth works (AS-norm over a fusion of PLDA and WCCN).

Format versions: 2 (this one) adds the nested metrics. A version-1 folder of a metric that
wraps no other (every method of ``facemetric.metrics``) has the same layout and still loads;
a version-1 wrapper (normalisers, test-time methods, fusion, calibration), which mirrored its
inner metric as ``<slot>__<name>_`` attributes, is refused with the advice to fit it again.

Only classes registered in :data:`facemetric.registry.METHODS` can be loaded.
"""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.errors import ConfigError, InputError, bad_file
from facemetric.io.atomic import atomic_path, write_text_atomic
from facemetric.io.digest import file_digest
from facemetric.io.jsonable import jsonable

FORMAT = "facemetric-model"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MODEL_JSON = "model.json"
ARRAYS_NPZ = "arrays.npz"


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _known_classes() -> dict[str, tuple[str, type]]:
    from facemetric.registry import METHODS

    known: dict[str, tuple[str, type]] = {}
    for name, cls in METHODS.items():
        known.setdefault(_class_path(cls), (name, cls))
    return known


def _to_json_value(value: Any, what: str) -> Any:
    """Plain JSON value for ``value`` or raise naming the attribute."""
    try:
        return jsonable(value, strict=True)
    except TypeError as exc:
        raise ConfigError(f"{what} is a {exc.args[0]}, which model.json cannot hold; "
                          "store learned state as arrays or plain values") from None


def _versions() -> dict[str, str]:
    import scipy
    import sklearn

    import facemetric

    return {"facemetric": facemetric.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__}


def _is_metric(value: Any) -> bool:
    from facemetric.metrics.base import PairMetric

    return isinstance(value, PairMetric)


def _encode(metric: Any, prefix: str, arrays: dict[str, np.ndarray], known: dict[str, tuple[str, type]]) -> dict:
    """The JSON description of ``metric`` (and of the metrics nested in it); arrays go to ``arrays``."""
    cls_path = _class_path(type(metric))
    if cls_path not in known:
        raise ConfigError(
            f"{cls_path} is not registered in facemetric.registry.METHODS; register it to save it"
        )
    where = f" of {prefix.rstrip('/')}" if prefix else ""
    params = {k: _to_json_value(v, f"parameter {k!r}{where}") for k, v in metric.get_params(deep=False).items()}
    state: dict[str, Any] = {}
    shapes: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    for key, value in vars(metric).items():
        if not key.endswith("_") or key.startswith("_"):
            continue
        if _is_metric(value):
            nested[key] = _encode(value, f"{prefix}{key}/", arrays, known)
        elif isinstance(value, (list, tuple)) and value and all(_is_metric(v) for v in value):
            nested[key] = [_encode(v, f"{prefix}{key}/{i}/", arrays, known) for i, v in enumerate(value)]
        elif isinstance(value, np.ndarray):
            if value.dtype == object:
                raise ConfigError(
                    f"learned attribute {prefix}{key!r} is an object array; model files never hold pickles"
                )
            arrays[prefix + key] = value
            shapes[key] = {"shape": list(value.shape), "dtype": value.dtype.str}
        else:
            state[key] = _to_json_value(value, f"learned attribute {prefix}{key!r}")
    return {"class": cls_path, "method": known[cls_path][0], "params": params, "state": state,
            "arrays": shapes, "metrics": nested}


def save_model(metric: Any, model_dir: str | Path) -> Path:
    """Write a fitted metric (and the metrics nested in it) to ``model_dir`` (created if needed)."""
    if not hasattr(metric, "n_features_in_"):
        raise InputError(f"{type(metric).__name__} is not fitted; fit it before saving")
    arrays: dict[str, np.ndarray] = {}
    description = _encode(metric, "", arrays, _known_classes())
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    npz_path = model_dir / ARRAYS_NPZ
    with atomic_path(npz_path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **description,
        "n_features_in": int(metric.n_features_in_),
        "provenance": description["state"].get("provenance_"),
        "arrays_sha256": file_digest(npz_path),
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
    if meta.get("format_version") not in READABLE_VERSIONS:
        raise bad_file(path, f"has format version {meta.get('format_version')!r}; this facemetric reads "
                       f"versions {', '.join(map(str, READABLE_VERSIONS))}", "fit the model again with this version")
    for key in ("class", "params", "state", "arrays", "arrays_sha256"):
        if key not in meta:
            raise bad_file(path, f"lacks the field {key!r}", "the model file is corrupt; fit the model again")
    return meta


def _expected_arrays(description: dict, prefix: str = "") -> dict[str, dict]:
    """Every array the description (nested metrics included) lists, by its key in ``arrays.npz``."""
    out = {prefix + k: v for k, v in description.get("arrays", {}).items()}
    for key, value in description.get("metrics", {}).items():
        for i, inner in (enumerate(value) if isinstance(value, list) else [(None, value)]):
            out.update(_expected_arrays(inner, f"{prefix}{key}/" + ("" if i is None else f"{i}/")))
    return out


def _decode(description: dict, arrays: dict[str, np.ndarray], prefix: str, json_path: Path,
            known: dict[str, tuple[str, type]]) -> Any:
    """Rebuild the metric a description names, its arrays and state, then its nested metrics."""
    if not isinstance(description, dict) or not {"class", "params", "state"} <= set(description):
        raise bad_file(json_path, f"describes the nested metric {prefix.rstrip('/')!r} incompletely",
                       "the model file is corrupt; fit the model again")
    if description["class"] not in known:
        names = ", ".join(sorted(name for name, _ in known.values()))
        raise bad_file(json_path, f"names the unknown model class {description['class']!r}",
                       f"facemetric loads only its own methods ({names})")
    cls = known[description["class"]][1]
    try:
        metric = cls(**description["params"])
    except TypeError as exc:
        raise bad_file(json_path, f"has parameters that {cls.__name__} does not take ({exc})",
                       "the model was written by another facemetric version; fit it again") from exc
    for key in description.get("arrays", {}):
        setattr(metric, key, arrays[prefix + key])
    for key, value in description["state"].items():
        if not key.endswith("_"):
            raise bad_file(json_path, f"has the state field {key!r}, which is not a learned attribute",
                           "the model file is corrupt; fit the model again")
        setattr(metric, key, value)
    for key, value in description.get("metrics", {}).items():
        if isinstance(value, list):
            setattr(metric, key, [_decode(v, arrays, f"{prefix}{key}/{i}/", json_path, known)
                                  for i, v in enumerate(value)])
        else:
            setattr(metric, key, _decode(value, arrays, f"{prefix}{key}/", json_path, known))
    if not hasattr(metric, "n_features_in_"):
        raise bad_file(json_path, "lacks n_features_in_", "the model file is corrupt; fit the model again")
    metric._after_load()
    return metric
def is_model_folder(path: str | Path) -> bool:
    """True for a folder holding ``model.json`` (or that file itself)."""
    path = Path(path)
    return (path / MODEL_JSON).is_file() or (path.name == MODEL_JSON and path.is_file())


def describe_model(model_dir: str | Path) -> dict[str, Any]:
    """What a model folder written by ``facemetric fit`` holds, read from its ``model.json``."""
    from facemetric.metrics import METHODS

    meta = read_model_json(model_dir)
    arrays = meta["arrays"]
    identities = arrays.get("training_identities_", {}).get("shape")
    return {
        "kind": "model",
        "method": meta.get("method"),
        "class": meta["class"],
        "params": meta["params"],
        "n_features_in": meta.get("n_features_in"),
        "n_training_identities": identities[0] if identities else None,
        "transductive": bool(getattr(METHODS.get(meta.get("method")), "transductive", False)),
        "provenance": meta.get("provenance"),
        "arrays": {name: spec["shape"] for name, spec in arrays.items()},
        "nested_metrics": {key: ([v.get("method") for v in value] if isinstance(value, list) else value.get("method"))
                           for key, value in meta.get("metrics", {}).items()} or None,
        "fitted_at": meta.get("fitted_at"),
        "versions": meta.get("versions"),
    }


def load_model(model_dir: str | Path) -> Any:
    """Load a metric saved by :func:`save_model`; refuses unknown classes and corrupt files."""
    meta = read_model_json(model_dir)
    folder = Path(model_dir)
    folder = folder if folder.is_dir() else folder.parent
    json_path = folder / MODEL_JSON
    known = _known_classes()
    if meta["format_version"] == 1 and any("__" in k for k in (*meta["state"], *meta["arrays"])):
        raise bad_file(json_path, "holds a wrapper metric saved in model format 1 (inner metrics mirrored as "
                       "<slot>__<name>_ attributes), which this facemetric no longer reads",
                       "fit the model again (`facemetric fit`)")
    npz_path = folder / ARRAYS_NPZ
    if not npz_path.exists():
        raise bad_file(npz_path, "does not exist", "the model folder is incomplete; fit the model again")
    if file_digest(npz_path) != meta["arrays_sha256"]:
        raise bad_file(npz_path, "does not match the checksum in model.json",
                       "the model folder is corrupt or was edited; fit the model again")
    try:
        with np.load(npz_path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise bad_file(npz_path, f"is not a readable .npz file ({exc})", "fit the model again") from exc
    expected = _expected_arrays(meta)
    if set(arrays) != set(expected):
        raise bad_file(npz_path, f"holds arrays {sorted(arrays)} but model.json lists {sorted(expected)}",
                       "the model folder is corrupt; fit the model again")
    for key, value in arrays.items():
        if list(value.shape) != expected[key]["shape"]:
            raise bad_file(npz_path,
                           f"array {key!r} has shape {value.shape}, expected {expected[key]['shape']}",
                           "the model folder is corrupt; fit the model again")
    return _decode(meta, arrays, "", json_path, known)
