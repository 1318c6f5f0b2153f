"""`facemetric extract`: PLACEHOLDER until implemented."""

import typer


def register(app: typer.Typer) -> None:
    """Add the `extract` command to ``app``. (not implemented yet)"""
