"""`facemetric info`: describe a descriptor set or a pair protocol."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from facemetric.cli.common import out
from facemetric.cli.options import FORMAT_HELP


def info(
    path: Path = typer.Argument(
        ..., help="A descriptor set (.npz or .parquet), a pair protocol (any format) or a model folder "
        "written by `facemetric fit`."
    ),
    format: str | None = typer.Option(None, "--format", "-f", metavar="<format>", help=FORMAT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Describe PATH: the size, dimension, identities and provenance of a descriptor set; the pairs,
    labels and folds of a protocol; the method, parameters and training data of a fitted model.

    Examples:

    - `facemetric info lfw_dlib.npz`
    - `facemetric info data/lfw/pairs.txt`
    - `facemetric info models/wccn --json`
    """
    from facemetric.describe import describe_path
    from facemetric.metrics.persist import describe_model, is_model_folder

    facts = describe_model(path) if format is None and is_model_folder(path) else describe_path(path, format=format)
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
