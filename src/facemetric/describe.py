"""Plain-dict descriptions of descriptor sets and protocols (behind ``facemetric info``; model folders
are described by :func:`facemetric.metrics.persist.describe_model`)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.errors import InputError
from facemetric.types import DescriptorSet, PairProtocol


def identity_facts(ds: DescriptorSet) -> dict[str, Any]:
    """How many identities the set has and where they come from (labels, or the image ids' layout)."""
    from facemetric.identity import identities_from_ids

    unknown = int((ds.labels == "").sum())
    identities = ds.labels.astype(str)
    source = "labels"
    if unknown:
        from_ids, rule = identities_from_ids(ds.ids[ds.labels == ""])
        identities = identities.astype(object)
        identities[ds.labels == ""] = from_ids
        identities = identities.astype(str)
        source = f"image ids ({rule})" if unknown == len(ds) else f"labels, and image ids ({rule}) for {unknown}"
    names, counts = np.unique(identities[identities != ""], return_counts=True)
    return {
        "n_identities": int(names.size),
        "identity_source": source,
        "identities_with_2+_images": int((counts >= 2).sum()),
        "unknown_labels": unknown,
    }


def describe_descriptors(ds: DescriptorSet) -> dict[str, Any]:
    norms = np.linalg.norm(ds.X, axis=1)
    return {
        "kind": "descriptors",
        "n_descriptors": len(ds),
        "dim": ds.dim,
        "has_flip": ds.X_flip is not None,
        **identity_facts(ds),
        "norm_min": float(norms.min()) if norms.size else None,
        "norm_median": float(np.median(norms)) if norms.size else None,
        "norm_max": float(norms.max()) if norms.size else None,
        "n_with_yaw": 0 if ds.yaw is None else int(np.isfinite(ds.yaw).sum()),
        "abs_yaw_median": None if ds.yaw is None or not np.isfinite(ds.yaw).any()
        else float(np.nanmedian(np.abs(ds.yaw))),
        "provenance": ds.provenance.to_dict(),
        "first_id": str(ds.ids[0]) if len(ds) else None,
    }


def describe_protocol(p: PairProtocol) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "kind": "protocol",
        "name": p.name,
        "n_pairs": len(p),
        "n_images": int(np.unique(p.pairs).size),
        "labels": "hidden" if p.labels is None else "present",
        "n_identities": None if p.identities is None else int(np.unique(p.identities[np.unique(p.pairs)]).size),
    }
    if p.labels is not None:
        facts["n_matched"] = int(p.labels.sum())
        facts["n_mismatched"] = int(len(p) - p.labels.sum())
    if p.folds is not None:
        folds, counts = np.unique(p.folds, return_counts=True)
        facts["n_folds"] = int(folds.size)
        facts["pairs_per_fold"] = counts.tolist()
    else:
        facts["n_folds"] = 0
    facts["first_pair"] = [str(p.a[0]), str(p.b[0])]
    return facts


def _npz_keys(path: Path) -> set[str]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return set(data.files)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: not a readable .npz file ({exc.__class__.__name__}); it may be truncated"
        ) from exc


def describe_path(path: str | Path, format: str | None = None) -> dict[str, Any]:
    """Describe a descriptor file (.npz with X or emb, .parquet) or any protocol file."""
    from facemetric.io import load_descriptors, load_protocol

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: does not exist; check the path")
    if format is None and path.suffix == ".parquet":
        return describe_descriptors(load_descriptors(path))
    if format is None and path.suffix == ".npz" and _npz_keys(path) & {"X", "emb"}:
        return describe_descriptors(load_descriptors(path))
    return describe_protocol(load_protocol(path, format=format))
