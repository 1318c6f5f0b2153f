"""The one file hasher: hex digest of a file's bytes (``hashlib.file_digest``), SHA-256 by default."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any


def file_digest(path: str | Path, algorithm: str | Callable[[], Any] = "sha256", *,
                length: int | None = None) -> str:
    """Hex digest of the file at ``path``; ``algorithm`` is a hashlib name or constructor.

    ``length`` keeps the first hex digits only (a short, stable id of a model file).
    """
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()[:length]
