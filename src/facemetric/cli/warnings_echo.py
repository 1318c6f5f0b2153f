"""Show library warnings as one clean ``warning: ...`` line each (no file paths, no source lines)."""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager
from typing import Iterator

from facemetric.cli.common import console


def _shape(text: str) -> str:
    """The message with its numbers and quoted names blanked: repeats per fold count once."""
    return re.sub(r"'[^']*'|\d+(\.\d+)?", "#", text)


@contextmanager
def echo_warnings() -> Iterator[list[str]]:
    """Collect warnings raised inside the block; print the first of each kind once, with a repeat count."""
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield messages
        finally:
            first: dict[str, str] = {}
            counts: dict[str, int] = {}
            for w in caught:
                text = str(w.message)
                key = _shape(text)
                first.setdefault(key, text)
                counts[key] = counts.get(key, 0) + 1
            for key, text in first.items():
                messages.append(text)
                more = f" (and {counts[key] - 1} similar)" if counts[key] > 1 else ""
                console.print(f"[yellow]warning:[/yellow] {text}{more}", highlight=False, soft_wrap=True)


@contextmanager
def clean_warnings() -> Iterator[None]:
    """Inside the block, a warning that reaches the screen is one ``warning: ...`` line, without the
    file name and source line that Python adds."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ARG001
        console.print(f"[yellow]warning:[/yellow] {message}", highlight=False, soft_wrap=True)

    saved = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = saved
