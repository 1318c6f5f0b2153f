"""`facemetric benchmark`: PLACEHOLDER until implemented."""

import typer


def register(app: typer.Typer) -> None:
    """Add the `benchmark` command to ``app``. (not implemented yet)"""
