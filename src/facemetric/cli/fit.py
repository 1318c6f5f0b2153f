"""`facemetric fit`: learn a pair metric on training descriptors and save it as a model folder."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from facemetric.cli.common import console


def fit(
    train: Path = typer.Argument(..., help="Training descriptor set (.npz/.parquet). Identities come from its "
                                 "labels, or from the folder of each image id when labels are empty."),
    method: str = typer.Option(..., "--method", "-m", help="Metric name (see `facemetric fit --list`)."),
    param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="Hyperparameter key=value "
                                              "(repeatable); values are JSON literals or plain strings."),
    flip: str = typer.Option("auto", "--flip", help="Flip fusion: auto (sum if flipped descriptors exist), "
                             "sum, concat or none."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Model folder to write (model.json + arrays.npz)."),
) -> None:
    """Fit METHOD on TRAIN's descriptors and identities; write the model to OUT.

    Example: facemetric fit train.npz --method lda --param n_components=96 --out models/lda
    """
    from facemetric.io import load_descriptors
    from facemetric.metrics.persist import save_model
    from facemetric.experiments.driver import fit_metric, resolve_flip
    from facemetric.experiments.specs import MethodSpec, parse_param

    from facemetric.cli.warnings_echo import echo_warnings

    params = dict(parse_param(p) for p in (param or []))
    spec = MethodSpec(method, params)
    spec.factory()  # unknown method or parameter: fail before loading data
    descriptors = load_descriptors(train)
    with echo_warnings():
        metric = fit_metric(descriptors, spec, flip)
    save_model(metric, out_dir)
    console.print(
        f"fitted {spec.label} on {len(descriptors)} descriptors (flip {resolve_flip(flip, descriptors)}); "
        f"model written to {out_dir}", highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the `fit` command to ``app``."""
    app.command("fit")(fit)
