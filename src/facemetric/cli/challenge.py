"""`facemetric challenge`: PLACEHOLDER until implemented."""

import typer


def register(app: typer.Typer) -> None:
    """Add the `challenge` command to ``app``. (not implemented yet)"""
