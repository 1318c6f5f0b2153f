"""Descriptor sets on disk: facemetric's own ``.npz`` / parquet+JSON, and the LFW reference layout.

Own ``.npz`` keys: ``X`` (N, D) float32, optional ``X_flip``, ``labels`` and ``ids``
(unicode), ``provenance`` (a JSON string), optional ``landmarks`` (N, 5, 2) and ``yaw`` (N,)
(NaN where unknown). No pickles are ever loaded.

The reference layout of ``../shared/data/lfw/descriptors_*.npz`` is read too: ``paths``,
``emb``, optional ``emb_flip``, and ``labels`` (int index) with ``names``.

Parquet: one row per image with columns ``id``, ``label`` and ``x`` (list of float32),
optional ``x_flip``, ``landmarks`` (list of 10 float32: x, y of each point) and ``yaw``
(float32, null where unknown); the provenance sits in a JSON sidecar ``<file>.json``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from facemetric.errors import InputError, bad_file
from facemetric.identity import identity_from_id
from facemetric.io.atomic import atomic_path, write_text_atomic
from facemetric.types import DescriptorSet, Provenance

SUFFIXES = (".npz", ".parquet")


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, ValueError) and "pickle" in str(exc).lower():
            raise bad_file(path, "holds pickled objects, which facemetric never loads", "save arrays only") from exc
        raise bad_file(path, f"is not a readable .npz file ({exc.__class__.__name__}: {exc})",
                       "it may be truncated; re-create or re-download it") from exc


def _content_hash(X: np.ndarray) -> str:
    """First 16 hex digits of the SHA-256 of the descriptor values (dtype and shape included)."""
    import hashlib

    arr = np.ascontiguousarray(X)
    return hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode() + arr.tobytes()).hexdigest()[:16]


def descriptor_fingerprint(descriptors: DescriptorSet) -> dict:
    """What identifies a descriptor model's output, as protocols record it: the content hash of
    the descriptor values (before flip fusion), and the backbone and model hash when the
    provenance has them."""
    prov = descriptors.provenance
    return {"content_sha256": _content_hash(descriptors.X), "backbone": prov.backbone,
            "model_hash": prov.extra.get("model_hash"), "n": int(len(descriptors.X)),
            "dim": int(descriptors.X.shape[1])}


def same_descriptor_model(a: dict, b: dict) -> bool:
    """Whether two fingerprints name the same descriptors: same content, or the same model file."""
    if a.get("content_sha256") and a.get("content_sha256") == b.get("content_sha256"):
        return True
    return bool(a.get("model_hash")) and a.get("model_hash") == b.get("model_hash")


def _from_npz(path: Path) -> DescriptorSet:
    d = _read_npz(path)
    try:
        if "X" in d:
            prov = Provenance.from_dict(json.loads(str(d["provenance"]))) if "provenance" in d else Provenance()
            return DescriptorSet(X=d["X"], labels=d["labels"], ids=d["ids"], provenance=prov, X_flip=d.get("X_flip"),
                                 landmarks=d.get("landmarks"), yaw=d.get("yaw"))
        if "emb" in d and "paths" in d:
            labels = d.get("labels")
            if labels is None:
                labels = np.array([identity_from_id(p, 0) for p in d["paths"].astype(str)])
            elif "names" in d and np.issubdtype(labels.dtype, np.integer):
                names = d["names"].astype(str)
                if labels.min() < 0 or labels.max() >= names.size:
                    raise InputError(f"labels index past the {names.size} names")
                labels = names[labels]
            # the layout records no backbone: "unknown" (the dimension is still checked), never the file
            # name, so a renamed copy is the same set; the content hash tells copies from other files
            prov = Provenance(extra={"source": "reference-npz", "content_sha256": _content_hash(d["emb"])})
            return DescriptorSet(X=d["emb"], labels=labels, ids=d["paths"], provenance=prov, X_flip=d.get("emb_flip"))
    except InputError as exc:
        raise bad_file(path, str(exc)) from exc
    except KeyError as exc:
        raise bad_file(path, f"lacks the key {exc}", "save it with facemetric.io.save_descriptors") from exc
    raise bad_file(path, f"has keys {sorted(d)} but neither X/labels/ids nor paths/emb",
                   "save it with facemetric.io.save_descriptors")


def _from_parquet(path: Path) -> DescriptorSet:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise bad_file(path, f"is not a readable parquet file ({exc})", "re-create it") from exc
    cols = set(table.column_names)
    if not {"id", "label", "x"} <= cols:
        raise bad_file(path, f"has columns {sorted(cols)}; need id, label and x")
    sidecar = path.with_suffix(path.suffix + ".json")
    prov = Provenance.from_dict(json.loads(sidecar.read_text())) if sidecar.exists() else Provenance()

    def matrix(name: str) -> np.ndarray:
        rows = table.column(name).to_pylist()
        dims = {len(r) for r in rows}
        if len(dims) > 1:
            raise bad_file(path, f"column {name} mixes descriptor dimensions {sorted(dims)}")
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)

    def optional(name: str, shape: tuple[int, ...]) -> np.ndarray | None:
        if name not in cols:
            return None
        rows = table.column(name).to_pylist()
        nan = np.full(int(np.prod(shape)), np.nan)
        try:
            values = [nan if r is None else np.asarray(r, dtype=np.float64).reshape(-1) for r in rows]
            return np.asarray(values, dtype=np.float32).reshape((len(rows), *shape))
        except ValueError as exc:
            raise bad_file(path, f"column {name} does not hold {int(np.prod(shape))} number(s) per row "
                           f"({exc})") from exc

    try:
        return DescriptorSet(
            X=matrix("x"),
            labels=np.asarray(table.column("label").to_pylist(), dtype=str),
            ids=np.asarray(table.column("id").to_pylist(), dtype=str),
            provenance=prov,
            X_flip=matrix("x_flip") if "x_flip" in cols else None,
            landmarks=optional("landmarks", (5, 2)),
            yaw=optional("yaw", ()),
        )
    except InputError as exc:
        raise bad_file(path, str(exc)) from exc


def load_descriptors(path: str | Path) -> DescriptorSet:
    """Load and validate a descriptor set (``.npz`` or ``.parquet``)."""
    path = Path(path)
    if not path.exists():
        raise bad_file(path, "does not exist", "check the path")
    if path.suffix == ".parquet":
        return _from_parquet(path)
    if path.suffix == ".npz":
        return _from_npz(path)
    raise bad_file(path, f"has unknown extension {path.suffix!r}", f"use one of {SUFFIXES}")


def save_descriptors(descriptors: DescriptorSet, path: str | Path) -> Path:
    """Write a descriptor set atomically; the format follows the extension."""
    path = Path(path)
    if path.suffix == ".npz":
        arrays = {
            "X": descriptors.X,
            "labels": descriptors.labels,
            "ids": descriptors.ids,
            "provenance": np.array(descriptors.provenance.to_json()),
        }
        for key in ("X_flip", "landmarks", "yaw"):
            if getattr(descriptors, key) is not None:
                arrays[key] = getattr(descriptors, key)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        return path
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = {
            "id": pa.array(descriptors.ids.tolist()),
            "label": pa.array(descriptors.labels.tolist()),
            "x": pa.array(list(descriptors.X), type=pa.list_(pa.float32())),
        }
        if descriptors.X_flip is not None:
            cols["x_flip"] = pa.array(list(descriptors.X_flip), type=pa.list_(pa.float32()))
        if descriptors.landmarks is not None:
            flat = descriptors.landmarks.reshape(len(descriptors), 10)
            cols["landmarks"] = pa.array([None if np.isnan(r).any() else r for r in flat],
                                         type=pa.list_(pa.float32()))
        if descriptors.yaw is not None:
            cols["yaw"] = pa.array(descriptors.yaw, type=pa.float32(), from_pandas=True)  # NaN -> null
        with atomic_path(path) as tmp:
            pq.write_table(pa.table(cols), tmp)
        write_text_atomic(path.with_suffix(path.suffix + ".json"), descriptors.provenance.to_json())
        return path
    raise InputError(f"{path}: unknown extension {path.suffix!r}; use one of {SUFFIXES}")
