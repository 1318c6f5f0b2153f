"""Helpers shared by the CLI verbs: console, progress bars and options."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console

console = Console(stderr=True)
out = Console()


def progress_enabled(flag: bool | None = None) -> bool:
    """Progress bars are on unless ``--no-progress`` or ``FACEMETRIC_NO_PROGRESS=1``."""
    if flag is not None:
        return flag
    return os.environ.get("FACEMETRIC_NO_PROGRESS", "") not in ("1", "true", "yes")


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator:
    """A rich progress bar with ETA, or a no-op stand-in when disabled."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    ) as progress:
        yield progress
