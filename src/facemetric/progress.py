"""Progress bars for long library work, switched off by a flag or ``FACEMETRIC_NO_PROGRESS=1``.

Library functions that take a while accept a ``progress`` parameter (a bool, None for "the
environment decides", or a callback) and draw their bar through :func:`progress_bar`, so that
the CLI, scripts and notebooks share one behaviour. Bars go to stderr and stay readable when
stderr is not a terminal.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console

#: The stderr console that bars draw on; the CLI prints its messages through it too, so that
#: messages and a live bar do not garble each other.
console = Console(stderr=True)


def progress_enabled(flag: bool | None = None) -> bool:
    """``flag`` when given; otherwise on unless ``FACEMETRIC_NO_PROGRESS`` is 1, true or yes."""
    if flag is not None:
        return flag
    return os.environ.get("FACEMETRIC_NO_PROGRESS", "") not in ("1", "true", "yes")


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator:
    """A rich ``Progress`` with ETA, or a disabled one (same API, draws nothing)."""
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
