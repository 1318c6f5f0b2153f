"""A "detector" that looks up landmarks supplied by the user, as in the hackathon.

Two file formats, chosen by the file extension:

* Whitespace text (any extension but ``.csv``), one face per line, no header::

      path x1 y1 x2 y2 score lex ley rex rey nx ny lmx lmy rmx rmy

  i.e. the box, its score, then left eye, right eye, nose, left and right mouth corner
  in pixels (the format of ``lfw/landmarks_mtcnn_5pt.txt``). Lines starting with ``#``
  are skipped.
* CSV (``.csv``) with a header row. Required columns: ``path, lex, ley, rex, rey, nx, ny,
  lmx, lmy, rmx, rmy``. Optional: ``x1, y1, x2, y2`` (default: the landmarks' bounding box
  grown by 50%) and ``score`` (default 1).

``path`` is the image path relative to the images root, with forward slashes; it is
matched against the ``image_id`` given to :meth:`detect`. Several lines may name the
same image (several faces). An image with no line gets no face.
:func:`read_landmarks_file` reads the same files as arrays, one face per image (for the yaw of
the cross-pose protocol, :mod:`facemetric.io.protocols.cross_pose`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from facemetric.detect.base import Face
from facemetric.errors import InputError, bad_file
from facemetric.io.digest import file_digest

LANDMARK_COLUMNS = ("lex", "ley", "rex", "rey", "nx", "ny", "lmx", "lmy", "rmx", "rmy")
BOX_COLUMNS = ("x1", "y1", "x2", "y2")


def _box_from_landmarks(lm: np.ndarray) -> np.ndarray:
    lo, hi = lm.min(axis=0), lm.max(axis=0)
    centre, half = (lo + hi) / 2, (hi - lo).max() * 0.75
    return np.concatenate([centre - half, centre + half])


def _parse_numbers(values: list[str], path: Path, line: int) -> np.ndarray:
    try:
        nums = np.array([float(v) for v in values], dtype=np.float64)
    except ValueError as exc:
        raise bad_file(path, f"line {line}: non-numeric value ({exc})", "fix or remove that line") from exc
    if not np.isfinite(nums).all():
        raise bad_file(path, f"line {line}: NaN or inf value", "fix or remove that line")
    return nums


def _normalise_id(image_id: str) -> str:
    image_id = image_id.replace("\\", "/")
    while image_id.startswith("./"):
        image_id = image_id[2:]
    return image_id


Rows = dict[str, list[np.ndarray]]  # image id -> one (15,) float64 row per face: box, score, 5 points


def _text_rows(path: Path) -> Rows:
    rows: Rows = {}
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 16:
                raise bad_file(path, f"line {n}: expected 16 fields (path x1 y1 x2 y2 score and 10 landmark "
                               f"coordinates), got {len(parts)}", "fix that line")
            rows.setdefault(_normalise_id(parts[0]), []).append(_parse_numbers(parts[1:], path, n))
    return rows


def _csv_rows(path: Path) -> Rows:
    rows: Rows = {}
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in ("path",) + LANDMARK_COLUMNS if c not in header]
        if missing:
            raise bad_file(path, f"CSV header lacks column(s) {', '.join(missing)}",
                           "the header must name path, " + ", ".join(LANDMARK_COLUMNS))
        reader.fieldnames = header
        has_box = all(c in header for c in BOX_COLUMNS)
        for n, row in enumerate(reader, start=2):
            if not row.get("path"):
                raise bad_file(path, f"line {n}: empty path", "fix that line")
            lm = _parse_numbers([row[c] for c in LANDMARK_COLUMNS], path, n)
            if has_box:
                box = _parse_numbers([row[c] for c in BOX_COLUMNS], path, n)
            else:
                box = _box_from_landmarks(lm.reshape(5, 2))
            score = _parse_numbers([row["score"]], path, n)[0] if row.get("score") not in (None, "") else 1.0
            rows.setdefault(_normalise_id(row["path"].strip()), []).append(np.concatenate([box, [score], lm]))
    return rows


def read_rows(path: str | Path) -> Rows:
    """The faces of a landmarks file (text or ``.csv``, see the module docstring) by image id, as float64 rows."""
    path = Path(path)
    if not path.is_file():
        raise bad_file(path, "no such landmarks file", "check the path, e.g. lfw/landmarks_mtcnn_5pt.txt")
    reader = _csv_rows if path.suffix.lower() == ".csv" else _text_rows
    rows = reader(path)
    if not rows:
        raise bad_file(path, "the landmarks file lists no faces", "check that it is the right file")
    return rows


def _faces(rows: Rows) -> dict[str, list[Face]]:
    return {image_id: [Face(box=r[:4], score=r[4], landmarks=r[5:].reshape(5, 2)) for r in found]
            for image_id, found in rows.items()}


def read_landmarks_text(path: Path) -> dict[str, list[Face]]:
    """The faces of a whitespace text file, by image id."""
    return _faces(_text_rows(path))


def read_landmarks_csv(path: Path) -> dict[str, list[Face]]:
    """The faces of a CSV file with a header, by image id."""
    return _faces(_csv_rows(path))


def read_landmarks_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(ids (N,), landmarks (N, 5, 2) float64)`` in file order, one face per image (e.g. for yaw).

    Refuses a file that lists an image twice (which face would it be?).
    """
    rows = read_rows(path)
    twice = next((image_id for image_id, found in rows.items() if len(found) > 1), None)
    if twice is not None:
        raise bad_file(Path(path), f"lists {twice!r} more than once", "keep one face per image")
    ids = np.array(list(rows), dtype=str)
    return ids, np.stack([found[0][5:] for found in rows.values()]).reshape(-1, 5, 2)


class LandmarksFileDetector:
    """Serve the faces listed in a landmarks file for each ``image_id``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.faces_ = _faces(read_rows(self.path))
        self.name = f"landmarks:{self.path.name}"
        self.model_hash = file_digest(self.path, length=16)

    def detect(self, image_rgb: np.ndarray, image_id: str | None = None) -> list[Face]:
        if image_id is None:
            raise InputError(f"{self.path}: the landmarks detector needs the image id (its path relative to "
                             "the images root) to look the face up")
        return list(self.faces_.get(_normalise_id(image_id), []))
