"""`facemetric benchmark`: a grid of metrics over one protocol, against the cosine and L2 baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.common import console, out
from facemetric.progress import progress_bar, progress_enabled


def benchmark(
    protocol: Path = typer.Argument(..., help="Labelled pair protocol (LFW pairs.txt, CSV a,b,label,fold, ...)."),
    test: Path = typer.Option(..., "--test", help="Descriptor set holding every protocol image."),
    train: Optional[Path] = typer.Option(None, "--train", help="Training descriptor set (train/test mode). "
                                         "Without it: identity-disjoint k-fold on the protocol's own folds."),
    methods: Optional[str] = typer.Option(None, "--methods", help="Comma-separated metric specs, each `name` or "
                                          "`name:key=value:...` (default: every closed-form, neural and "
                                          "normalisation method installed). Cosine and L2 are always added."),
    flip: str = typer.Option("auto", "--flip", help="Flip fusion: auto (sum if flipped descriptors exist), "
                             "sum, concat or none."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Protocol format (default: detect)."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Output folder: benchmark.json, benchmark.md, "
                                 "config.json, roc.png, and scores/ (cache used to resume)."),
    n_bootstrap: int = typer.Option(1000, "--n-bootstrap", help="Bootstrap replicates for CIs and the paired "
                                    "test against cosine (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    top: int = typer.Option(3, "--top", help="How many of the best methods the ROC plot shows."),
    fresh: bool = typer.Option(False, "--fresh", help="Ignore cached scores in OUT/scores and recompute."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Write roc.png and roc_det.png."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar (also FACEMETRIC_NO_PROGRESS=1)."),
) -> None:
    """Score PROTOCOL with a grid of methods; print the hackathon-style table and write OUT/benchmark.json.

    The table shows AUC with its bootstrap CI, k-fold accuracy, TAR@FAR=1e-3, the change of 1-AUC
    against cosine, a paired bootstrap p-value against cosine and the transductive flag.

    Negative "1-AUC vs cosine" means fewer errors than cosine. Transductive methods look at the
    test descriptors of the fold being scored and are flagged.
    """
    import os
    import shutil

    from facemetric.io import load_descriptors, load_protocol
    from facemetric.experiments.benchmark import default_specs, run_benchmark, write_benchmark
    from facemetric.experiments.driver import resolve_flip
    from facemetric.experiments.report import benchmark_table
    from facemetric.experiments.specs import parse_methods
    from facemetric.verify.report import package_versions

    from facemetric.cli.warnings_echo import echo_warnings

    if no_progress:
        os.environ["FACEMETRIC_NO_PROGRESS"] = "1"  # also silences the bars of the methods themselves
    specs = parse_methods(methods) if methods else default_specs()
    for spec in specs:
        spec.factory()
    test_set = load_descriptors(test)
    test_flip = resolve_flip(flip, test_set)
    test_set = test_set.fused(test_flip)
    train_set = None
    if train is not None:
        train_raw = load_descriptors(train)
        train_set = train_raw.fused(resolve_flip(flip, train_raw))
    pairs = load_protocol(protocol, format=format)
    cache = out_dir / "scores"
    if fresh and cache.exists():
        shutil.rmtree(cache)
    with echo_warnings(), progress_bar(progress_enabled(False if no_progress else None)) as progress:
        run = run_benchmark(specs, test_set, pairs, train=train_set, n_bootstrap=n_bootstrap, seed=seed,
                            cache_dir=cache, progress=progress)
    config = {
        "protocol": str(protocol), "protocol_name": pairs.name, "test": str(test),
        "train": None if train is None else str(train), "mode": "train-test" if train else "identity-disjoint kfold",
        "methods": [s.label for s in specs], "flip": test_flip, "n_bootstrap": n_bootstrap, "seed": seed,
        "provenance": test_set.provenance.to_dict(), "versions": package_versions(),
    }
    paths = write_benchmark(run, out_dir, config=config, top=top, plot=plots)
    table = benchmark_table(run.rows, title=f"{pairs.name}: {config['mode']}")
    if out.is_terminal:
        out.print(table)
    else:  # piped or captured: a wide console, so that no number is cut
        from rich.console import Console

        Console(width=180).print(table)
    for row in run.rows:
        if row.get("error"):
            console.print(f"[yellow]warning:[/yellow] {row['method']} failed: {row['error']}", highlight=False)
    console.print(f"benchmark written to {paths['json']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `benchmark` command to ``app``."""
    app.command("benchmark")(benchmark)
