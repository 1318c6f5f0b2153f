"""Show library warnings as one clean ``warning: ...`` line each (no file paths, no source lines)."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Iterator

from facemetric.cli.common import console


@contextmanager
def echo_warnings() -> Iterator[list[str]]:
    """Collect warnings raised inside the block and print each distinct message once, even on error."""
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield messages
        finally:
            for w in caught:
                text = str(w.message)
                if text not in messages:
                    messages.append(text)
                    console.print(f"[yellow]warning:[/yellow] {text}", highlight=False, soft_wrap=True)
