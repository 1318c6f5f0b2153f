"""`facemetric datasets`: PLACEHOLDER until implemented."""

import typer


def register(app: typer.Typer) -> None:
    """Add the `datasets` command to ``app``. (not implemented yet)"""
