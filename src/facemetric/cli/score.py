"""`facemetric score`: score a protocol's pairs with a saved model and write a pair_id,score CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.common import console
from facemetric.cli.options import FORMAT_HELP, Flip


def score(
    descriptors: Path = typer.Argument(..., help="Descriptor set (.npz or .parquet) holding every image of "
                                       "the protocol."),
    protocol: Path = typer.Argument(..., help="Pair protocol file (labels not needed)."),
    model: Path = typer.Option(..., "--model", metavar="<dir>", help="Model folder written by "
                               "`facemetric fit`."),
    out_csv: Path = typer.Option(..., "--out", "-o", metavar="<file>", help="Scores CSV to write "
                                 "(pair_id,score; written atomically)."),
    format: Optional[str] = typer.Option(None, "--format", "-f", metavar="<format>", help=FORMAT_HELP),
    flip: Optional[Flip] = typer.Option(None, "--flip", metavar="<mode>", help="Flip fusion (auto, sum, concat or none); "
                                        "default: the one the model was fitted with."),
    missing: str = typer.Option("reject", "--missing", metavar="<policy>", help="Pairs with an image that has "
                                "no descriptor: reject (written with a score below every real score), drop (left "
                                "out of OUT) or error."),
) -> None:
    """Score the pairs of PROTOCOL from DESCRIPTORS with a fitted MODEL (higher means same person);
    write the pair_id,score CSV OUT.

    Examples:

    - `facemetric score cplfw.npz pairs_CPLFW.txt --model models/wccn --out scores.csv`
    - `facemetric score test.npz test_pairs.csv --model models/plda --out submission.csv`
    """
    from facemetric.io import load_descriptors, load_protocol
    from facemetric.io.atomic import check_output_file
    from facemetric.metrics.persist import load_model
    from facemetric.experiments.driver import score_with_model
    from facemetric.io.scores import write_scores_csv

    from facemetric.cli.errors import naming
    from facemetric.cli.warnings_echo import echo_warnings
    import numpy as np

    from facemetric.enrolment import check_missing_policy, find_missing

    check_missing_policy(missing)
    check_output_file(out_csv)
    metric = load_model(model)
    descriptor_set = load_descriptors(descriptors)
    pairs = load_protocol(protocol, format=format)
    with echo_warnings(), naming(descriptors):
        scores = score_with_model(metric, descriptor_set, pairs, flip, missing=missing)
    keep = np.isfinite(scores)
    write_scores_csv(out_csv, pairs.pair_ids[keep], scores[keep])
    absent = find_missing(pairs, descriptor_set, missing)
    if absent.n_images:
        console.print(f"note: {absent.summary()}", highlight=False)
    note = " (transductive: scores depend on the protocol's images)" if getattr(metric, "transductive", False) else ""
    console.print(f"{int(keep.sum())} pair scores written to {out_csv}{note}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `score` command to ``app``."""
    app.command("score")(score)
