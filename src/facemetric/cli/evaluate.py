"""`facemetric evaluate`: score a pair protocol with a method and write the report and plots."""

from __future__ import annotations

from pathlib import Path

import typer

from facemetric.cli.common import console, out
from facemetric.progress import progress_bar, progress_enabled


def evaluate(
    descriptors: Path = typer.Argument(
        ..., help="Descriptor set: facemetric .npz/.parquet or the LFW reference .npz."
    ),
    protocol: Path = typer.Argument(..., help="Pair protocol file (or CFP Protocol folder)."),
    method: str = typer.Option(
        "cosine", "--method", "-m", help="Scoring method: any name in facemetric.metrics.METHODS."
    ),
    flip: str = typer.Option("sum", "--flip", help="Flip fusion of emb and emb_flip: sum, concat or none."),
    format: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="Protocol format: lfw, lfw-dev, cfp-fp, cfp-ff, cplfw, bin, csv, npz (default: detect).",
    ),
    model: Path | None = typer.Option(
        None, "--model", help="Load a fitted metric from this folder instead of fitting one."
    ),
    images_root: Path | None = typer.Option(
        None, "--images-root", help="Dataset root that CFP image ids are relative to."
    ),
    out_dir: Path = typer.Option(
        ..., "--out", "-o", help="Output folder for report.json, roc.png and det.png."
    ),
    n_bootstrap: int = typer.Option(
        1000, "--n-bootstrap", help="Bootstrap replicates for the CIs (0: none)."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the bootstrap (and of folds when the protocol has none)."
    ),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Write ROC and DET PNGs."),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show a progress bar (also off with FACEMETRIC_NO_PROGRESS=1)."
    ),
) -> None:
    """Score PROTOCOL's pairs from DESCRIPTORS and report AUC, k-fold accuracy, EER, TAR@FAR with CIs.

    A learned method without --model is fitted on the descriptors whose identities do not
    appear in the protocol. Writes OUT/report.json, OUT/roc.png and OUT/det.png.
    """
    from facemetric.io import load_descriptors, load_protocol
    from facemetric.experiments.evaluate import evaluate_protocol
    from facemetric.verify.report import build_report, report_table, write_report

    descriptor_set = load_descriptors(descriptors)
    pair_protocol = load_protocol(protocol, format=format, images_root=images_root)
    with progress_bar(progress_enabled(None if progress else False)) as bar:
        task = bar.add_task("bootstrap", total=n_bootstrap)
        run = evaluate_protocol(
            descriptor_set,
            pair_protocol,
            method=method,
            flip=flip,
            model_dir=model,
            n_bootstrap=n_bootstrap,
            seed=seed,
            progress=lambda k: bar.advance(task, k),
        )
    run.config.update({"descriptors": str(descriptors), "protocol_path": str(protocol), "format": format})
    report = build_report(
        run.result,
        scores=run.scores,
        labels=pair_protocol.labels,
        pair_ids=pair_protocol.pair_ids,
        a=pair_protocol.a,
        b=pair_protocol.b,
        folds=run.result.kfold.folds,
        config=run.config,
        warnings=run.warnings,
    )
    report["notes"] = run.notes
    out_dir.mkdir(parents=True, exist_ok=True)
    write_report(report, out_dir / "report.json")
    if plots:
        from facemetric.verify.plots import save_det, save_roc

        name = run.config["method"]
        curves = {name: (pair_protocol.labels, run.scores)}
        save_roc(curves, out_dir / "roc.png")
        save_det(curves, out_dir / "det.png")
    for note in run.notes:
        console.print(f"note: {note}")
    for warning in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    out.print(report_table(report, title=f"{run.config['method']} on {pair_protocol.name}"))
    console.print(f"report written to {out_dir / 'report.json'}")


def register(app: typer.Typer) -> None:
    """Add the `evaluate` command to ``app``."""
    app.command("evaluate")(evaluate)
