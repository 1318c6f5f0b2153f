"""`facemetric fit`: learn a pair metric on training descriptors and save it as a model folder."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from facemetric.cli.common import console
from facemetric.cli.options import FLIP_HELP, METHOD_HELP, Flip


def fit(
    train: Path = typer.Argument(..., help="Training descriptor set (.npz or .parquet). Identities come from "
                                 "its labels, or from the folder of each image id when labels are empty."),
    method: str = typer.Option(..., "--method", "-m", metavar="<method>", help=METHOD_HELP),
    param: Optional[List[str]] = typer.Option(None, "--param", "-p", metavar="<key=value>", help="A "
                                              "parameter of METHOD (repeatable); values are JSON literals "
                                              "or plain strings; run `facemetric methods METHOD` for its parameters."),
    flip: Flip = typer.Option("auto", "--flip", metavar="<mode>", help=FLIP_HELP),
    out_dir: Path = typer.Option(..., "--out", "-o", metavar="<dir>", help="Model folder to write "
                                 "(model.json and arrays.npz)."),
) -> None:
    """Fit METHOD on the descriptors and identities of TRAIN; write the model folder OUT.

    `facemetric score` and `facemetric evaluate --model` use the model; `facemetric info OUT`
    describes it.

    Examples:

    - `facemetric fit casia.npz --method wccn --out models/wccn`
    - `facemetric fit casia.npz --method lda --param n_components=96 --out models/lda`
    - `facemetric fit casia.npz --method plda --param n_components=128 --param n_iter=20 --out models/plda`
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
