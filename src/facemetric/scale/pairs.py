"""A very large pair list as row indices into a descriptor set.

Two kinds of file are read:

* an index file: ``.npy`` holding an (M, 2) integer array, or ``.npz`` holding ``pairs`` (M, 2)
  and optionally ``labels`` (M,) 0/1 and ``folds`` (M,), with no ``images`` key. Indices are
  rows of the descriptor file, as it is stored;
* any protocol that :func:`facemetric.io.load_protocol` reads (LFW ``pairs.txt``, CSV, protocol
  ``.npz`` with ``images``...): image ids are resolved against the descriptors' ids.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facemetric.errors import ProtocolError, bad_file
from facemetric.types import DescriptorSet


@dataclass(frozen=True, eq=False)
class IndexPairs:
    """Pairs ``(ia[k], ib[k])`` of descriptor rows, with labels (1 = same person) and folds when known."""

    ia: np.ndarray
    ib: np.ndarray
    labels: np.ndarray | None = None
    folds: np.ndarray | None = None
    pair_ids: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.ia.shape[0])


def _read_index_file(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of an index file, or None when ``path`` is a protocol (anything else)."""
    if path.suffix == ".npy":
        try:
            return {"pairs": np.load(path, allow_pickle=False)}
        except (OSError, ValueError, EOFError) as exc:
            raise bad_file(path, f"is not a readable .npy array ({exc})", "save the pairs with numpy.save") from None
    if path.suffix != ".npz":
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if "images" in data.files:
                return None  # a protocol .npz: image ids, resolved by load_protocol
            if "pairs" not in data.files:
                raise bad_file(path, f"has no 'pairs' array (found {', '.join(data.files) or 'nothing'})",
                               "store the (M, 2) row indices under the name 'pairs'")
            return {k: data[k] for k in ("pairs", "labels", "folds") if k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise bad_file(path, f"is not a readable .npz file ({exc})", "write it with numpy.savez") from None


def check_index_pairs(pairs: np.ndarray, n_rows: int, what: str, labels=None, folds=None) -> IndexPairs:
    """Validate an (M, 2) integer array of rows in ``[0, n_rows)`` and its optional labels and folds."""
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] == 0:
        raise ProtocolError(f"{what}: pairs must be a non-empty (M, 2) array; got shape {pairs.shape}")
    if not np.issubdtype(pairs.dtype, np.integer):
        raise ProtocolError(f"{what}: pair indices must be integers; got {pairs.dtype}")
    low, high = int(pairs.min()), int(pairs.max())
    if low < 0 or high >= n_rows:
        bad = low if low < 0 else high
        raise ProtocolError(f"{what}: a pair points at row {bad} but the descriptor file has {n_rows} rows; "
                            f"indices must be in [0, {n_rows})")
    m = pairs.shape[0]
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (m,) or not np.isin(labels, (0, 1)).all():
            raise ProtocolError(f"{what}: labels must be {m} values of 0 (different) or 1 (same person)")
        labels = labels.astype(np.int8)
    if folds is not None:
        folds = np.asarray(folds)
        if folds.shape != (m,) or not np.issubdtype(folds.dtype, np.integer):
            raise ProtocolError(f"{what}: folds must be {m} integers, one per pair")
        folds = folds.astype(np.int32)
    index = np.int32 if n_rows < 2**31 else np.int64  # half the bytes sent to the workers
    return IndexPairs(pairs[:, 0].astype(index), pairs[:, 1].astype(index), labels, folds)


def load_index_pairs(path: str | Path, descriptors: DescriptorSet, *, format: str | None = None) -> IndexPairs:
    """Pairs of ``path`` as rows of ``descriptors`` (see the module docstring for the formats)."""
    path = Path(path)
    if not path.exists():
        raise bad_file(path, "does not exist", "give a .npy/.npz of row index pairs or a protocol file")
    arrays = None if format is not None else _read_index_file(path)
    if arrays is not None:
        return check_index_pairs(arrays["pairs"], len(descriptors), str(path),
                                 arrays.get("labels"), arrays.get("folds"))
    from facemetric.io import load_protocol

    protocol = load_protocol(path, format=format)
    ia, ib = protocol.resolve(descriptors)
    pairs = check_index_pairs(np.stack([ia, ib], axis=1), len(descriptors), str(path), protocol.labels,
                              protocol.folds)
    return IndexPairs(pairs.ia, pairs.ib, pairs.labels, pairs.folds, protocol.pair_ids)
