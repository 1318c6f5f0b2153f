"""`facemetric align`: PLACEHOLDER until implemented."""

import typer


def register(app: typer.Typer) -> None:
    """Add the `align` command to ``app``. (not implemented yet)"""
