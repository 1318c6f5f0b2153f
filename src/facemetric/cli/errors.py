"""Library errors that name no file get the file the user gave (the CLI knows it, the library does not)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from facemetric.errors import InputError


@contextmanager
def naming(path: str | Path, noun: str = "descriptors") -> Iterator[None]:
    """Inside the block, an :class:`InputError` that starts with the generic ``noun`` (``"descriptors:
    X has 12 features..."``) is raised again starting with ``path`` instead."""
    try:
        yield
    except InputError as exc:
        message = str(exc)
        if message.startswith(f"{noun}: "):
            raise InputError(f"{path}: {message[len(noun) + 2:]}") from exc
        raise
