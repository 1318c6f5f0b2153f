"""`facemetric score`: score a protocol's pairs with a saved model and write a pair_id,score CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.common import console


def score(
    descriptors: Path = typer.Argument(..., help="Descriptor set (.npz/.parquet) holding every protocol image."),
    protocol: Path = typer.Argument(..., help="Pair protocol file (labels not needed)."),
    model: Path = typer.Option(..., "--model", help="Model folder written by `facemetric fit`."),
    out_csv: Path = typer.Option(..., "--out", "-o", help="Scores CSV to write (pair_id,score; atomic)."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Protocol format (default: detect)."),
    flip: Optional[str] = typer.Option(None, "--flip", help="Flip fusion; default: the one the model was "
                                       "fitted with."),
) -> None:
    """Score PROTOCOL's pairs from DESCRIPTORS with MODEL (higher = same person); write OUT."""
    from facemetric.io import load_descriptors, load_protocol
    from facemetric.metrics.persist import load_model
    from facemetric.experiments.driver import score_with_model
    from facemetric.io.scores import write_scores_csv

    from facemetric.cli.warnings_echo import echo_warnings

    metric = load_model(model)
    descriptor_set = load_descriptors(descriptors)
    pairs = load_protocol(protocol, format=format)
    with echo_warnings():
        scores = score_with_model(metric, descriptor_set, pairs, flip)
    write_scores_csv(out_csv, pairs.pair_ids, scores)
    note = " (transductive: scores depend on the protocol's images)" if getattr(metric, "transductive", False) else ""
    console.print(f"{len(scores)} pair scores written to {out_csv}{note}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `score` command to ``app``."""
    app.command("score")(score)
