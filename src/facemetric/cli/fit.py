"""`facemetric fit`: PLACEHOLDER until implemented."""

import typer


def register(app: typer.Typer) -> None:
    """Add the `fit` command to ``app``. (not implemented yet)"""
