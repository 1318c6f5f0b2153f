"""A per-image cache of extraction results in one SQLite file, so that a stopped run resumes.

Rows are keyed by (configuration, image key). The configuration key hashes everything that
changes a descriptor (detector and its model file, template, embedder and its model hash, flip,
face choice); the image key hashes the file's bytes. Each batch is written in one transaction,
so a run killed at any moment leaves only whole, committed results behind.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from facemetric.errors import bad_file
from facemetric.extract.result import ImageResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    config TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    x BLOB, x_flip BLOB, box BLOB, landmarks BLOB, score REAL,
    PRIMARY KEY (config, key)
)
"""
CACHE_FILE = "extract-cache.sqlite"


def _blob(arr: np.ndarray | None) -> bytes | None:
    return None if arr is None else np.ascontiguousarray(arr, dtype=np.float32).tobytes()


def _array(blob: bytes | None, shape: tuple[int, ...] | None = None) -> np.ndarray | None:
    if blob is None:
        return None
    arr = np.frombuffer(blob, dtype=np.float32).copy()
    return arr if shape is None else arr.reshape(shape)


class ResultCache:
    """Extraction results in ``folder/extract-cache.sqlite``. Use as a context manager."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def __enter__(self) -> ResultCache:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / CACHE_FILE
        try:
            self._db = sqlite3.connect(path)
            self._db.execute(SCHEMA)
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise bad_file(path, f"is not a usable cache ({exc})",
                           "delete it or choose another --cache") from exc
        return self

    def __exit__(self, *exc) -> None:
        self._db.close()

    def get_many(self, config: str, keys: Sequence[str]) -> dict[str, ImageResult]:
        """The cached results among ``keys`` for ``config``."""
        found: dict[str, ImageResult] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = self._db.execute(
                "SELECT key, status, detail, x, x_flip, box, landmarks, score FROM results "
                f"WHERE config = ? AND key IN ({','.join('?' * len(chunk))})", (config, *chunk)
            )
            for key, status, detail, x, x_flip, box, lm, score in rows:
                found[key] = ImageResult(
                    key=key, status=status, detail=detail, x=_array(x), x_flip=_array(x_flip),
                    box=_array(box), landmarks=_array(lm, (5, 2)),
                    score=float("nan") if score is None else score,
                )
        return found

    def put_many(self, config: str, results: Iterable[ImageResult]) -> int:
        """Store the cacheable ``results`` in one transaction; return how many were stored."""
        rows = [
            (config, r.key, r.status, r.detail, _blob(r.x), _blob(r.x_flip), _blob(r.box),
             _blob(r.landmarks), None if np.isnan(r.score) else float(r.score))
            for r in results if r.cacheable
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def count(self, config: str | None = None) -> int:
        if config is None:
            return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        return self._db.execute("SELECT COUNT(*) FROM results WHERE config = ?", (config,)).fetchone()[0]
