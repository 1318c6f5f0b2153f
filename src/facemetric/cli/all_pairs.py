"""`facemetric all-pairs`: TAR@FAR down to 1e-6 over every pair of a descriptor set, streamed."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.common import console, out
from facemetric.cli.options import FLIP_HELP, MODEL_HELP, NO_PROGRESS_HELP, SET_METHOD_HELP, TRAIN_HELP, Flip
from facemetric.progress import progress_bar, progress_enabled


def all_pairs(
    descriptors: Path = typer.Argument(..., help="Labelled descriptor set (.npz/.parquet, or the LFW reference "
                                       ".npz)."),
    out_dir: Path = typer.Option(..., "--out", "-o", metavar="<dir>", help="Output folder for report.json and roc_det.png."),
    method: Optional[str] = typer.Option(None, "--method", "-m", metavar="<method>", help=SET_METHOD_HELP),
    model: Optional[Path] = typer.Option(None, "--model", metavar="<dir>", help=MODEL_HELP),
    train: Optional[Path] = typer.Option(None, "--train", metavar="<file>", help=TRAIN_HELP),
    flip: Optional[Flip] = typer.Option(None, "--flip", metavar="<mode>", help=FLIP_HELP),
    block: int = typer.Option(4096, "--block", help="Rows and columns scored at a time."),
    tail_mib: int = typer.Option(256, "--tail-memory", help="MiB for the exact top impostor scores (TAR@FAR "
                                 "targets beyond it are read from the histogram)."),
    no_curve: bool = typer.Option(False, "--no-curve", help="Exact TAR@FAR only, faster: no impostor histogram, "
                                  "so no ROC/DET curve and no AUC."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Do not write roc_det.png."),
    no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
) -> None:
    """Score every pair i < j of DESCRIPTORS once, without storing the scores; report exact TAR@FAR.

    A set of 20,000 images is 200 M pairs. Genuine scores are kept, impostor scores go to a fine
    histogram, and the highest impostor scores are kept exactly, so TAR@FAR=1e-6 is exact.

    Examples:

    - `facemetric all-pairs lfw_dlib.npz --out allpairs/`
    - `facemetric all-pairs lfw.npz --out allpairs/ --model models/plda`
    - `facemetric all-pairs big.npz --out allpairs/ --no-curve --block 8192`
    """
    from facemetric.errors import bad_file
    from facemetric.io import load_descriptors
    from facemetric.experiments.sets import ready_metric
    from facemetric.templates.builder import identities
    from facemetric.verify.all_pairs import all_pairs_tar_at_far
    from facemetric.verify.curves import far_key
    from facemetric.verify.report import package_versions, write_report

    ds = load_descriptors(descriptors)
    if len(ds) < 2:
        raise bad_file(descriptors, f"holds {len(ds)} image(s)", "all-vs-all verification needs at least two images "
                       "of two identities")
    ready = ready_metric([(ds, str(descriptors))], method=method, model_dir=model,
                         train=None if train is None else load_descriptors(train), flip=flip)
    fused = ready.sets[0]
    labels = identities(fused, str(descriptors))
    n = len(fused)
    with progress_bar(progress_enabled(False if no_progress else None)) as bar:
        task = bar.add_task("pairs", total=n * (n - 1) // 2)
        result = all_pairs_tar_at_far(ready.metric, fused.X, labels, block=block, tail_budget=tail_mib << 20,
                                      histogram=not no_curve, on_block=lambda k: bar.advance(task, k))
    report = {**result.to_dict(), "config": {**ready.config, "descriptors": str(descriptors), "block": block,
                                             "tail_memory_mib": tail_mib,
                                             "tar_rule": "highest TPR with FPR <= target"},
              "notes": ready.notes, "versions": package_versions()}
    out_dir.mkdir(parents=True, exist_ok=True)
    write_report(report, out_dir / "report.json")
    if not (no_plots or no_curve):
        result.save_roc_det(out_dir / "roc_det.png", ready.config["method"])
    for note in ready.notes:
        console.print(note if note.startswith("warning:") else f"note: {note}", highlight=False, soft_wrap=True)
    from rich.table import Table

    table = Table(title=f"{ready.config['method']}: all {result.n_pairs:,} pairs ({result.n_genuine:,} genuine)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for far, value in result.tar_at_far.items():
        text = "n/a" if math.isnan(value) else f"{100 * value:.2f}%"
        if not result.exact[far] and not math.isnan(value):
            text = f">= {text} (histogram)"
        table.add_row(f"TAR@FAR={far_key(far)}", text)
    if not no_curve:
        table.add_row("ROC-AUC (histogram)", f"{result.auc:.5f}")
    out.print(table)
    console.print(f"report written to {out_dir / 'report.json'}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the `all-pairs` command to ``app``."""
    app.command("all-pairs")(all_pairs)
