"""`facemetric evaluate`: score a pair protocol with a method and write the report and plots."""

from __future__ import annotations

from pathlib import Path

import typer

from facemetric.cli.common import console, out
from facemetric.cli.errors import naming
from facemetric.cli.options import (
    FLIP_HELP,
    FORMAT_HELP,
    METHOD_HELP,
    NO_PROGRESS_HELP,
    RESAMPLE_HELP,
    Flip,
    Resample,
)
from facemetric.progress import progress_bar, progress_enabled


def evaluate(
    descriptors: Path = typer.Argument(
        ..., help="Descriptor set: a facemetric .npz or .parquet, or the LFW reference .npz."
    ),
    protocol: Path = typer.Argument(..., help="Pair protocol file (or a CFP Protocol folder)."),
    method: str = typer.Option("cosine", "--method", "-m", metavar="<method>", help=METHOD_HELP),
    flip: Flip = typer.Option("auto", "--flip", metavar="<mode>", help=FLIP_HELP),
    format: str | None = typer.Option(None, "--format", "-f", metavar="<format>", help=FORMAT_HELP),
    model: Path | None = typer.Option(
        None, "--model", metavar="<dir>", help="Score with a model folder written by `facemetric fit` "
        "instead of fitting METHOD here."
    ),
    images_root: Path | None = typer.Option(
        None, "--images-root", metavar="<dir>", help="Dataset root that CFP image ids are relative to."
    ),
    out_dir: Path = typer.Option(
        ..., "--out", "-o", metavar="<dir>", help="Output folder for report.json, roc.png and det.png."
    ),
    n_bootstrap: int = typer.Option(
        1000, "--n-bootstrap", help="Bootstrap replicates for the confidence intervals (0: none)."
    ),
    resample: Resample = typer.Option("auto", "--resample", metavar="<unit>", help=RESAMPLE_HELP),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the bootstrap (and of the folds when the protocol has fewer than 2)."
    ),
    missing: str = typer.Option(
        "reject", "--missing", metavar="<policy>", help="Pairs with an image that has no descriptor (no face "
        "found): reject (count them as rejections, scored below every real score), drop (leave them out) or error."
    ),
    no_plots: bool = typer.Option(False, "--no-plots", help="Do not write roc.png and det.png."),
    no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
) -> None:
    """Score the pairs of PROTOCOL from DESCRIPTORS and report AUC, k-fold accuracy, EER and TAR@FAR
    with bootstrap confidence intervals that resample the people of the pairs (--resample).

    A learned METHOD without --model is fitted on the descriptors whose identities do not appear in
    the protocol. Pairs with an image that has no descriptor count as rejections (--missing reject)
    and are listed in the report. Writes OUT/report.json, OUT/roc.png and OUT/det.png.

    Examples:

    - `facemetric evaluate lfw_dlib.npz data/lfw/pairs.txt --out report/`
    - `facemetric evaluate lfw_dlib.npz data/lfw/pairs.txt --method lda --out report-lda/`
    - `facemetric evaluate cplfw.npz pairs_CPLFW.txt --model models/wccn --out report/`
    """
    from facemetric.enrolment import check_missing_policy
    from facemetric.io import load_descriptors, load_protocol
    from facemetric.experiments.evaluate import evaluate_protocol
    from facemetric.io.protocols.cross_pose import mining_note
    from facemetric.verify.report import report_table, write_report

    check_missing_policy(missing)

    descriptor_set = load_descriptors(descriptors)
    pair_protocol = load_protocol(protocol, format=format, images_root=images_root)
    construction, mining = mining_note(protocol, descriptor_set, descriptors)
    with naming(descriptors), progress_bar(progress_enabled(False if no_progress else None)) as bar:
        tasks: list = []

        def bootstrap_progress(k: int) -> None:  # the bar appears once the inputs are checked and scored
            if not tasks:
                tasks.append(bar.add_task("bootstrap", total=n_bootstrap))
            bar.advance(tasks[0], k)

        run = evaluate_protocol(
            descriptor_set,
            pair_protocol,
            method=method,
            flip=flip,
            model_dir=model,
            n_bootstrap=n_bootstrap,
            seed=seed,
            missing=missing,
            resample=resample,
            progress=bootstrap_progress,
        )
    run.config.update({"descriptors": str(descriptors), "protocol_path": str(protocol), "format": format})
    if construction is not None:
        run.config["protocol_construction"] = construction
        run.notes.append(mining)
    report = run.report()
    out_dir.mkdir(parents=True, exist_ok=True)
    write_report(report, out_dir / "report.json")
    if not no_plots:
        from facemetric.verify.plots import save_det, save_roc

        name = run.config["method"]
        curves = {name: (run.protocol.labels, run.scores)}
        save_roc(curves, out_dir / "roc.png", protocol=pair_protocol.name)
        save_det(curves, out_dir / "det.png", protocol=pair_protocol.name)
    for note in run.notes:
        console.print(f"note: {note}")
    for warning in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    out.print(report_table(report, title=f"{run.config['method']} on {pair_protocol.name}"))
    if run.missing is not None and run.missing.n_images:
        console.print(f"pairs with an image without a descriptor: listed under 'missing' in {out_dir / 'report.json'}",
                      highlight=False)
    console.print(f"report written to {out_dir / 'report.json'}")


def register(app: typer.Typer) -> None:
    """Add the `evaluate` command to ``app``."""
    app.command("evaluate")(evaluate)
