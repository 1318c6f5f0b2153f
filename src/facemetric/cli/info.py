"""`facemetric info`: PLACEHOLDER until implemented."""

import typer


def register(app: typer.Typer) -> None:
    """Add the `info` command to ``app``. (not implemented yet)"""
