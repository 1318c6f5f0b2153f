"""facemetric's own protocol files: CSV (``a,b[,label][,fold]``) and ``.npz``.

CSV: one pair per row. With a header row, columns are found by name (``a``, ``b``,
``label``, ``fold``, ``pair_id``, and ``identity_a``, ``identity_b``: the identities of the two
images); without one they are positional ``a,b[,label][,fold]``.
Labels are 0/1 (also ``true``/``false``, ``same``/``diff``); an empty label column means
hidden labels (competition mode).

``.npz`` keys: ``images`` (K,), ``pairs`` (M, 2) int64, optional ``labels``, ``folds``,
``pair_ids``, ``identities`` (K,) and ``name``. Loaded without pickles.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np

from facemetric.errors import InputError, ProtocolError
from facemetric.io.atomic import atomic_open, atomic_path
from facemetric.io.protocols.text import malformed, read_text
from facemetric.types import PairProtocol

COLUMNS = ("a", "b", "label", "fold", "pair_id", "identity_a", "identity_b")
LABEL_WORDS = {"1": 1, "0": 0, "true": 1, "false": 0, "same": 1, "diff": 0, "different": 0}


def _parse_label(token: str, path: Path, no: int) -> int | None:
    token = token.strip().lower()
    if token == "":
        return None
    if token not in LABEL_WORDS:
        raise malformed(path, no, f"label must be 0 or 1 (or true/false); got {token!r}")
    return LABEL_WORDS[token]


def load_csv(path: str | Path) -> PairProtocol:
    """A CSV pair list (see the module doc)."""
    path = Path(path)
    rows = [(no, row) for no, row in enumerate(csv.reader(io.StringIO(read_text(path))), start=1) if row]
    if not rows:
        raise ProtocolError(f"{path}: the CSV lists no pairs")
    header = [c.strip().lower() for c in rows[0][1]]
    if {"a", "b"} <= set(header):
        unknown = [c for c in header if c not in COLUMNS]
        if unknown:
            raise malformed(path, 1, f"unknown column(s) {unknown}", f"use {list(COLUMNS)}")
        col = {name: header.index(name) for name in COLUMNS if name in header}
        rows = rows[1:]
    else:
        if len(header) < 2 or len(header) > 4:
            raise malformed(path, 1, f"expected 'a,b[,label][,fold]'; got {len(header)} columns")
        col = dict(zip(("a", "b", "label", "fold"), range(len(header))))
    if not rows:
        raise ProtocolError(f"{path}: the CSV has a header but no pairs")
    width = len(rows[0][1])
    a, b, labels, folds, pair_ids, lines, id_a, id_b = [], [], [], [], [], [], [], []
    for no, row in rows:
        lines.append(no)
        if len(row) != width:
            raise malformed(path, no, f"{len(row)} columns but the first row has {width}")
        ida, idb = row[col["a"]].strip(), row[col["b"]].strip()
        if not ida or not idb:
            raise malformed(path, no, "an image id is empty")
        a.append(ida)
        b.append(idb)
        if "label" in col:
            labels.append(_parse_label(row[col["label"]], path, no))
        if "fold" in col:
            token = row[col["fold"]].strip()
            try:
                folds.append(int(token))
            except ValueError:
                raise malformed(path, no, f"fold must be an integer; got {token!r}") from None
        if "pair_id" in col:
            pair_ids.append(row[col["pair_id"]].strip())
        if "identity_a" in col and "identity_b" in col:
            id_a.append(row[col["identity_a"]].strip())
            id_b.append(row[col["identity_b"]].strip())
    known = [x is not None for x in labels]
    if labels and any(known) and not all(known):
        first = rows[known.index(False)][0]
        raise malformed(path, first, "this pair has no label but others do", "label every pair or none")
    return PairProtocol.from_id_pairs(
        a,
        b,
        labels=labels if labels and all(known) else None,
        folds=folds or None,
        name=path.name,
        pair_ids=pair_ids or None,
        lines=lines,
        identities=(id_a, id_b) if id_a else None,
    )


def save_csv(protocol: PairProtocol, path: str | Path) -> Path:
    path = Path(path)
    with atomic_open(path, "w") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        cols = ["pair_id", "a", "b"] + (["label"] if protocol.labels is not None else [])
        cols += ["fold"] if protocol.folds is not None else []
        cols += ["identity_a", "identity_b"] if protocol.identities is not None else []
        writer.writerow(cols)
        data = [protocol.pair_ids, protocol.a, protocol.b]
        if protocol.labels is not None:
            data.append(protocol.labels)
        if protocol.folds is not None:
            data.append(protocol.folds)
        if protocol.identities is not None:
            data += [protocol.identities[protocol.pairs[:, 0]], protocol.identities[protocol.pairs[:, 1]]]
        writer.writerows(zip(*(d.tolist() for d in data)))
    return path


def load_npz(path: str | Path) -> PairProtocol:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            d = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise ProtocolError(
            f"{path}: not a readable protocol .npz ({exc.__class__.__name__}); re-create it"
        ) from exc
    if "images" not in d or "pairs" not in d:
        raise ProtocolError(f"{path}: has keys {sorted(d)}; a protocol .npz needs images and pairs")
    try:
        return PairProtocol(
            images=d["images"],
            pairs=d["pairs"],
            labels=d.get("labels"),
            folds=d.get("folds"),
            name=str(d["name"]) if "name" in d else path.name,
            pair_ids=d.get("pair_ids"),
            identities=d.get("identities"),
        )
    except InputError as exc:
        raise ProtocolError(f"{path}: {exc}") from exc


def save_npz(protocol: PairProtocol, path: str | Path) -> Path:
    path = Path(path)
    arrays = {
        "images": protocol.images,
        "pairs": protocol.pairs,
        "pair_ids": protocol.pair_ids,
        "name": np.array(protocol.name),
    }
    if protocol.labels is not None:
        arrays["labels"] = protocol.labels
    if protocol.folds is not None:
        arrays["folds"] = protocol.folds
    if protocol.identities is not None:
        arrays["identities"] = protocol.identities
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return path
