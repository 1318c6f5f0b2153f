"""`facemetric export`: a fitted metric as an ONNX graph (pair score, embedding, or backbone + embedding)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.common import console
from facemetric.cli.options import Flip


def export(
    model_dir: Path = typer.Argument(..., help="Model folder written by `facemetric fit`."),
    out: Path = typer.Option(..., "--out", "-o", metavar="<file>", help="ONNX file to write (atomic)."),
    embedding: bool = typer.Option(False, "--embedding", help="Export the descriptor-to-descriptor map of a "
                                   "projection metric (input x, output embedding) instead of the pair score."),
    backbone: Optional[Path] = typer.Option(None, "--backbone", metavar="<file>", help="An ONNX backbone to put in front of the "
                                            "embedding: one model from aligned face to projected descriptor."),
    flip: Optional[Flip] = typer.Option(None, "--flip", metavar="<mode>", help="With --backbone: none, sum or "
                                        "concat of the face and its mirror image (default: as the model was "
                                        "fitted)."),
) -> None:
    """Write MODEL_DIR's metric as ONNX: inputs a, b (N x D descriptors after flip fusion), output score (N).

    Run it with onnxruntime, no Python facemetric needed. Transductive methods cannot be exported.

    Examples:

    - `facemetric export models/plda --out plda.onnx`
    - `facemetric export models/lda --embedding --out lda_embedding.onnx`
    - `facemetric export models/lda --backbone arcface.onnx --out face_to_lda.onnx`
    """
    from facemetric.export.onnx_model import export_metric

    info = export_metric(model_dir, out, embedding=embedding, backbone=backbone, flip=flip)
    console.print(f"{info.kind} graph written to {info.path} (inputs {', '.join(info.inputs)}; outputs "
                  f"{', '.join(info.outputs)}; opset {info.opset})", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the `export` command to ``app``."""
    app.command("export")(export)
