"""Consoles shared by the CLI verbs (progress bars live in :mod:`facemetric.progress`)."""

from __future__ import annotations

from rich.console import Console

from facemetric.progress import console

out = Console()

__all__ = ["console", "out"]
