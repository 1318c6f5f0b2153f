"""Atomic file writes: write to a temporary file in the same folder, fsync, then rename.

A reader never sees a half-written file, and a crash leaves the old file in place. The file
gets the permissions the umask gives a new file (``tempfile.mkstemp`` would make it 0600).
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


def _new_file(directory: Path, prefix: str, suffix: str) -> Path:
    """Create an empty file with a fresh random name, mode 0666 less the umask (as ``open`` would)."""
    while True:
        candidate = directory / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate


@contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _new_file(
        path.parent, f".{path.name}.", suffix if suffix is not None else path.suffix + ".tmp"
    )
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``path`` only if the block succeeds."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=None if "b" in mode else encoding) as fh:
            yield fh
            fh.flush()


def check_output_file(path: str | Path, what: str = "--out") -> Path:
    """Refuse an output file whose folder does not exist (or is not a folder), before any work starts."""
    from facemetric.errors import bad_file

    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        problem = "does not exist" if not parent.exists() else "is not a folder"
        raise bad_file(path, f"the folder {parent} {problem}",
                       f"create it first (mkdir -p {parent}) or give another {what}")
    if path.is_dir():
        raise bad_file(path, "is a folder", f"give a file name for {what}")
    return path


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as fh:
        fh.write(text)
