"""`facemetric score`: PLACEHOLDER until implemented."""

import typer


def register(app: typer.Typer) -> None:
    """Add the `score` command to ``app``. (not implemented yet)"""
