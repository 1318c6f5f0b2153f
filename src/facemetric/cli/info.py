"""`facemetric info`: describe a descriptor set or a pair protocol."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from facemetric.cli.common import out


def info(
    path: Path = typer.Argument(
        ..., help="A descriptor set (.npz/.parquet) or a pair protocol (any format)."
    ),
    format: str | None = typer.Option(
        None, "--format", "-f", help="Protocol format when it cannot be detected."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Describe PATH: size, dimension, identities and provenance of descriptors; pairs, labels and folds
    of a protocol."""
    from facemetric.describe import describe_path

    facts = describe_path(path, format=format)
    if as_json:
        out.print_json(json.dumps(facts))
        return
    from rich.table import Table

    table = Table(title=str(path), show_header=False)
    table.add_column("key")
    table.add_column("value")
    for key, value in facts.items():
        table.add_row(key, json.dumps(value) if isinstance(value, (dict, list)) else str(value))
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the `info` command to ``app``."""
    app.command("info")(info)
