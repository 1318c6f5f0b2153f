"""LFW pair lists: ``pairs.txt`` (View 2, folds) and the View 1 files ``pairsDevTrain/Test.txt``.

A matched line reads ``name i j`` and a mismatched line ``name1 i name2 j``; images are
``Name/Name_NNNN.jpg`` relative to the dataset root. ``pairs.txt`` starts with
``n_folds n_per_class`` and lists, for each fold, ``n_per_class`` matched then
``n_per_class`` mismatched pairs. The View 1 files may start with a single count line.
The names give the identity of every image (``PairProtocol.identities``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facemetric.io.protocols.text import malformed, numbered_lines, parse_int
from facemetric.types import PairProtocol


def lfw_image_id(name: str, number: int) -> str:
    return f"{name}/{name}_{number:04d}.jpg"


def _parse_pair(tokens: list[str], path: Path, no: int) -> tuple[str, str, int, str, str]:
    """``(image a, image b, label, name a, name b)`` of one pair line."""
    if len(tokens) == 3:
        name, i, j = tokens
        return (
            lfw_image_id(name, parse_int(i, path, no, "image number")),
            lfw_image_id(name, parse_int(j, path, no, "image number")),
            1, name, name,
        )
    if len(tokens) == 4:
        n1, i, n2, j = tokens
        return (
            lfw_image_id(n1, parse_int(i, path, no, "image number")),
            lfw_image_id(n2, parse_int(j, path, no, "image number")),
            0, n1, n2,
        )
    raise malformed(
        path,
        no,
        f"expected 'name i j' or 'name1 i name2 j'; got {len(tokens)} fields",
        "check the LFW pair file",
    )


def load_lfw_pairs(path: str | Path) -> PairProtocol:
    """LFW View 2 ``pairs.txt``: 10 folds of 300 matched + 300 mismatched pairs (fold ids 0..9)."""
    path = Path(path)
    lines = list(numbered_lines(path))
    if not lines:
        raise malformed(path, 1, "the file is empty", "give LFW's pairs.txt")
    no, header = lines[0]
    if len(header) != 2:
        raise malformed(
            path,
            no,
            f"expected the header 'n_folds n_pairs_per_class' (e.g. '10 300'); got {' '.join(header)!r}",
        )
    n_folds = parse_int(header[0], path, no, "number of folds")
    per = parse_int(header[1], path, no, "pairs per class")
    body = lines[1:]
    if n_folds < 1 or per < 1:
        raise malformed(path, no, f"the header '{n_folds} {per}' announces no pairs",
                        "it must read 'n_folds n_pairs_per_class' with both at least 1, e.g. '10 300'")
    expected = n_folds * 2 * per
    if len(body) != expected:
        folds = "1 fold" if n_folds == 1 else f"{n_folds} folds"
        raise malformed(
            path,
            no,
            f"the header announces {folds} x 2 x {per} = {expected} pairs but the file has {len(body)}",
            "fix the header or the pair lines",
        )
    a, b, labels, names_a, names_b = [], [], [], [], []
    for k, (line_no, tokens) in enumerate(body):
        ida, idb, label, na, nb = _parse_pair(tokens, path, line_no)
        want = 1 if (k % (2 * per)) < per else 0
        if label != want:
            kind = "matched ('name i j')" if want else "mismatched ('name1 i name2 j')"
            raise malformed(
                path, line_no, f"expected a {kind} pair at this position of fold {k // (2 * per) + 1}"
            )
        a.append(ida)
        b.append(idb)
        labels.append(label)
        names_a.append(na)
        names_b.append(nb)
    folds = np.arange(expected) // (2 * per)
    return PairProtocol.from_id_pairs(a, b, labels=labels, folds=folds, name=path.name,
                                      lines=[no for no, _ in body], identities=(names_a, names_b))


def load_lfw_dev(path: str | Path) -> PairProtocol:
    """LFW View 1 ``pairsDevTrain.txt`` / ``pairsDevTest.txt`` (no folds; optional count header)."""
    path = Path(path)
    lines = list(numbered_lines(path))
    if lines and len(lines[0][1]) == 1:
        no, (count,) = lines[0]
        per = parse_int(count, path, no, "pair count")
        lines = lines[1:]
        if len(lines) != 2 * per:
            raise malformed(
                path, no, f"the header announces {per} + {per} pairs but the file has {len(lines)}"
            )
    if not lines:
        raise malformed(path, 1, "the file lists no pairs", "give an LFW View 1 pair file")
    a, b, labels, names_a, names_b = [], [], [], [], []
    for line_no, tokens in lines:
        ida, idb, label, na, nb = _parse_pair(tokens, path, line_no)
        a.append(ida)
        b.append(idb)
        labels.append(label)
        names_a.append(na)
        names_b.append(nb)
    return PairProtocol.from_id_pairs(a, b, labels=labels, name=path.name, lines=[no for no, _ in lines],
                                      identities=(names_a, names_b))
