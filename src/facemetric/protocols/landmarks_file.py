"""Read a 5-point landmark list: ``path x1 y1 x2 y2 score lex ley rex rey nx ny lmx lmy rmx rmy``.

This is the layout of ``lfw/landmarks_mtcnn_5pt.txt`` (an MTCNN box, its score, then left
eye, right eye, nose, left and right mouth corner in pixels). Blank lines and lines
starting with ``#`` are skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facemetric.errors import bad_file

N_FIELDS = 16


def read_landmarks_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(ids (N,), landmarks (N, 5, 2) float64)``; one clear error per malformed line."""
    path = Path(path)
    if not path.is_file():
        raise bad_file(path, "does not exist", "give the landmark list, e.g. lfw/landmarks_mtcnn_5pt.txt")
    ids: list[str] = []
    rows: list[list[float]] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) != N_FIELDS:
                raise bad_file(path, f"line {lineno} has {len(parts)} fields, expected {N_FIELDS}",
                               "each line reads: path x1 y1 x2 y2 score lex ley rex rey nx ny lmx lmy rmx rmy")
            try:
                values = [float(v) for v in parts[6:]]
            except ValueError as exc:
                raise bad_file(path, f"line {lineno} has a non-numeric landmark ({exc})") from exc
            ids.append(parts[0])
            rows.append(values)
    if not ids:
        raise bad_file(path, "holds no landmark lines", "check that it is the right file")
    landmarks = np.asarray(rows, dtype=np.float64).reshape(-1, 5, 2)
    ids_arr = np.asarray(ids)
    uniq, counts = np.unique(ids_arr, return_counts=True)
    if uniq.size != ids_arr.size:
        raise bad_file(path, f"lists {uniq[counts > 1][0]!r} more than once", "keep one face per image")
    return ids_arr, landmarks
