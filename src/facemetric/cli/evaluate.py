"""`facemetric evaluate`: PLACEHOLDER until implemented."""

import typer


def register(app: typer.Typer) -> None:
    """Add the `evaluate` command to ``app``. (not implemented yet)"""
