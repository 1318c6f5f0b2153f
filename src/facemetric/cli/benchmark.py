"""`facemetric benchmark`: a grid of metrics over one protocol, against the cosine and L2 baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.common import console, out
from facemetric.cli.options import FLIP_HELP, FORMAT_HELP, NO_PROGRESS_HELP, RESAMPLE_HELP, Flip, Resample
from facemetric.progress import progress_bar, progress_enabled


def benchmark(
    protocol: Path = typer.Argument(..., help="Labelled pair protocol (LFW pairs.txt, a CSV with "
                                    "a,b,label,fold, ...)."),
    test: Path = typer.Option(..., "--test", metavar="<file>", help="Descriptor set holding every image of "
                              "the protocol."),
    train: Optional[Path] = typer.Option(None, "--train", metavar="<file>", help="Training descriptor set "
                                         "(train/test mode). Without it: identity-disjoint k-fold on the "
                                         "folds of the protocol."),
    methods: Optional[str] = typer.Option(None, "--methods", metavar="<specs>", help="Comma-separated "
                                          "methods, each `name` or `name:key=value:...` (default: every "
                                          "closed-form, neural and normalisation method installed; run "
                                          "`facemetric methods` for the list). Cosine and L2 are always "
                                          "added."),
    flip: Flip = typer.Option("auto", "--flip", metavar="<mode>", help=FLIP_HELP),
    format: Optional[str] = typer.Option(None, "--format", "-f", metavar="<format>", help=FORMAT_HELP),
    out_dir: Path = typer.Option(..., "--out", "-o", metavar="<dir>", help="Output folder: benchmark.json, "
                                 "benchmark.md (the full table), config.json, the plots, and scores/ (the "
                                 "cache a rerun resumes from)."),
    n_bootstrap: int = typer.Option(1000, "--n-bootstrap", help="Bootstrap replicates for the confidence "
                                    "intervals and the paired test against cosine (0: none)."),
    resample: Resample = typer.Option("auto", "--resample", metavar="<unit>", help=RESAMPLE_HELP),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    missing: str = typer.Option("reject", "--missing", metavar="<policy>", help="Pairs with an image that has no "
                                "descriptor, for every method alike: reject (rejections, scored below every real "
                                "score), drop (left out) or error."),
    top: int = typer.Option(3, "--top", help="How many of the best methods the plots show."),
    fresh: bool = typer.Option(False, "--fresh", help="Ignore the cached scores in OUT/scores and "
                               "recompute."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Do not write roc.png and roc_det.png."),
    no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
) -> None:
    """Score PROTOCOL with a grid of methods against the cosine and L2 baselines; print the table and
    write OUT/benchmark.json and OUT/benchmark.md.

    The table shows AUC, k-fold accuracy, TAR@FAR=1e-3, the change of 1-AUC against cosine (negative:
    fewer errors than cosine) and the transductive flag (the method looks at the test descriptors of
    the fold being scored). A wider terminal adds the confidence interval, the paired p-value against
    cosine, the fold spread and the fit time; OUT/benchmark.md always has every column. An interrupted
    run resumes from OUT/scores.

    Examples:

    - `facemetric benchmark data/lfw/pairs.txt --test lfw_dlib.npz --out bench/`
    - `facemetric benchmark data/lfw/pairs.txt --test lfw_dlib.npz --methods lda,plda:n_components=128 --out bench/`
    - `facemetric benchmark pairs_CPLFW.txt --train casia.npz --test cplfw.npz --out bench-cplfw/`
    """
    import os
    import shutil

    from facemetric.io import load_descriptors, load_protocol
    from facemetric.experiments.benchmark import default_specs, run_benchmark, write_benchmark
    from facemetric.experiments.driver import resolve_flip
    from facemetric.experiments.report import COLUMNS, benchmark_table, shown_columns
    from facemetric.experiments.specs import parse_methods
    from facemetric.io.protocols.cross_pose import mining_note
    from facemetric.verify.report import package_versions

    from facemetric.cli.warnings_echo import echo_warnings

    from facemetric.enrolment import check_missing_policy

    check_missing_policy(missing)
    if no_progress:
        os.environ["FACEMETRIC_NO_PROGRESS"] = "1"  # also silences the bars of the methods themselves
    specs = parse_methods(methods) if methods else default_specs()
    for spec in specs:
        spec.factory()
    test_set = load_descriptors(test)
    construction, mining = mining_note(protocol, test_set, test)
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
    try:
        with echo_warnings(), progress_bar(progress_enabled(False if no_progress else None)) as progress:
            run = run_benchmark(specs, test_set, pairs, train=train_set, n_bootstrap=n_bootstrap, seed=seed,
                                cache_dir=cache, progress=progress, missing=missing, resample=resample)
    except KeyboardInterrupt:
        typer.echo(f"interrupted: the scores of the methods already done are cached in {cache}; run the same "
                   "command again to resume", err=True)
        raise typer.Exit(130) from None
    config = {
        "protocol": str(protocol), "protocol_name": pairs.name, "test": str(test),
        "train": None if train is None else str(train), "mode": "train-test" if train else "identity-disjoint kfold",
        "methods": [s.label for s in specs], "flip": test_flip, "n_bootstrap": n_bootstrap, "resample": resample, "seed": seed,
        "provenance": test_set.provenance.to_dict(), "versions": package_versions(),
        "missing_policy": missing, "n_missing_pairs": run.missing.n_pairs, "missing": run.missing.to_dict(),
    }
    if construction is not None:
        config["protocol_construction"] = construction
        run.notes.append(mining)
    paths = write_benchmark(run, out_dir, config=config, top=top, plot=not no_plots)
    out.print(benchmark_table(run.rows, title=f"{pairs.name}: {config['mode']}", width=out.width))
    if len(shown_columns(out.width)) < len(COLUMNS):
        out.print(f"every column: {paths['markdown']}", highlight=False, soft_wrap=True)
    for note in run.notes:
        console.print(f"note: {note}", highlight=False)
    if run.missing.n_images:
        console.print(f"note: {run.missing.summary()}; listed in {out_dir / 'config.json'}", highlight=False)
    for row in run.rows:
        if row.get("error"):
            console.print(f"[yellow]warning:[/yellow] {row['method']} failed: {row['error']}", highlight=False)
    console.print(f"benchmark written to {paths['json']} and {paths['markdown']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `benchmark` command to ``app``."""
    app.command("benchmark")(benchmark)
