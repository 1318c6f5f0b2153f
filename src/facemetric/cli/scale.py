"""`facemetric scale`: score huge pair lists and extract descriptors on a Dask cluster.

A thin layer over :mod:`facemetric.scale`. ``--scheduler tcp://HOST:PORT`` connects to a
running cluster (``dask scheduler`` + ``dask worker``); without it a local cluster of
``--dask-workers`` worker processes is started on 127.0.0.1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.common import console
from facemetric.cli.errors import naming
from facemetric.progress import progress_bar, progress_enabled
from facemetric.cli.extract import (
    CACHE_HELP,
    DET_SIZE_HELP,
    DETECTOR_HELP,
    EMBEDDER_HELP,
    FACE_HELP,
    LIST_HELP,
    UPSAMPLE_HELP,
    default_cache,
    detector_spec,
    run_extraction,
    select_images,
)
from facemetric.cli.options import FORMAT_HELP, NO_PROGRESS_HELP
from facemetric.errors import ConfigError
from facemetric.io.atomic import check_output_file

scale_app = typer.Typer(
    name="scale",
    help="Run scoring and extraction on a Dask cluster (needs the extra 'scale' of facemetric).\n\n"
    "Without --scheduler a local cluster is started on 127.0.0.1; see docs/scale.md.",
    no_args_is_help=True,
)

SCHEDULER_HELP = "Address of a running Dask scheduler, tcp://HOST:PORT (default: start a local cluster)."
WORKERS_HELP = "Worker processes of the local cluster when no --scheduler is given (default 2)."
TIMEOUT_HELP = "Seconds to wait for the scheduler (and for at least one worker) before giving up."


def _check_out_npy(out: Path) -> None:
    if out.suffix != ".npy":
        raise ConfigError(f"{out}: --out must end in .npy (the scores, float64, in pair order)")


@scale_app.command("score")
def score(
    descriptors: Path = typer.Argument(..., help="Descriptor set (.npz or .parquet)."),
    pairs: Path = typer.Argument(..., help="Pairs: a .npy (M, 2) of row indices, a .npz with pairs (and "
                                 "labels, folds), or any protocol file (LFW pairs.txt, CSV, ...)."),
    out: Path = typer.Option(..., "--out", "-o", metavar="<file>", help="Scores to write, a .npy of float64 "
                             "in pair order (atomic)."),
    model: Optional[Path] = typer.Option(None, "--model", metavar="<dir>", help="Model folder written by "
                                         "`facemetric fit`."),
    method: Optional[str] = typer.Option(None, "--method", metavar="<method>", help="A metric that learns "
                                         "nothing (cosine, l2) instead of --model (default cosine)."),
    flip: Optional[str] = typer.Option(None, "--flip", metavar="<mode>", help="Flip fusion (auto, none, "
                                       "sum, concat); default: the one of the model, else auto."),
    format: Optional[str] = typer.Option(None, "--format", "-f", metavar="<format>", help=FORMAT_HELP),
    report: Optional[Path] = typer.Option(None, "--report", metavar="<file>", help="Also write the "
                                          "evaluation as JSON (labelled pairs only)."),
    n_bootstrap: int = typer.Option(0, "--n-bootstrap", help="Bootstrap replicates for confidence intervals."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap and of the folds drawn when there are "
                             "none."),
    partition_size: int = typer.Option(1 << 20, "--partition-size", help="Pairs per Dask task."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="<address>", help=SCHEDULER_HELP),
    dask_workers: Optional[int] = typer.Option(None, "--dask-workers", help=WORKERS_HELP),
    timeout: float = typer.Option(10.0, "--connect-timeout", help=TIMEOUT_HELP),
    no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
) -> None:
    """Score PAIRS of DESCRIPTORS on Dask workers (higher means same person); evaluate them when
    labelled.

    Examples:

    - `facemetric scale score lfw.npz pairs.npy --out scores.npy --dask-workers 4`
    - `facemetric scale score big.npz pairs.npz --model models/wccn --scheduler tcp://10.0.0.5:8786 --out s.npy`
    """
    from facemetric.io.atomic import atomic_path
    from facemetric.scale import dask_client
    from facemetric.scale.score import load_scoring_inputs, partition_length, score_inputs

    import numpy as np

    _check_out_npy(out)
    check_output_file(out)
    partition_length(partition_size, 1)
    with naming(descriptors):
        inputs = load_scoring_inputs(descriptors, pairs, model_dir=model, method=method, flip=flip, format=format)
    if report is not None and inputs.pairs.labels is None:
        raise ConfigError(f"--report needs labelled pairs, but {pairs} has none; drop --report")
    with dask_client(scheduler, workers=dask_workers, timeout=timeout) as client:
        with progress_bar(progress_enabled(False if no_progress else None)) as bar:
            task = bar.add_task("score", total=len(inputs.pairs))
            run = score_inputs(
                client, inputs, partition_size=partition_size, n_bootstrap=n_bootstrap, seed=seed,
                on_progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, run.scores)
    console.print(f"{run.scores.size} pair scores -> {out}", highlight=False)
    if run.result is None:
        return
    summary = run.result.to_dict()
    console.print(f"AUC {summary['auc']:.5f}, accuracy {summary['accuracy']:.4f}, EER {summary['eer']:.4f}",
                  highlight=False)
    if report is not None:
        from facemetric.verify.report import build_report, write_report

        write_report(build_report(run.result, config=run.config), report)
        console.print(f"report -> {report}", highlight=False)


@scale_app.command("extract")
def extract(
    images_root: Path = typer.Argument(..., help="Folder of images, e.g. ROOT/IDENTITY/IMAGE.jpg; every "
                                       "worker must see it at the same path."),
    detector: str = typer.Option(..., "--detector", metavar="<spec>", help=DETECTOR_HELP),
    embedder: str = typer.Option(..., "--embedder", metavar="<spec>", help=EMBEDDER_HELP),
    out: Path = typer.Option(..., "--out", metavar="<file>", help="Descriptor file to write (.npz or "
                             ".parquet); its folder must exist."),
    det_size: Optional[str] = typer.Option(None, "--det-size", metavar="<size>", help=DET_SIZE_HELP),
    upsample: Optional[str] = typer.Option(None, "--upsample", metavar="<levels>", help=UPSAMPLE_HELP),
    flip: bool = typer.Option(False, "--flip", help="Also store the descriptors of the mirrored crops "
                              "(X_flip)."),
    list_file: Optional[Path] = typer.Option(None, "--list", metavar="<file>", help=LIST_HELP),
    protocol: Optional[Path] = typer.Option(None, "--protocol", metavar="<file>", help="Only the images of "
                                            "this pair protocol."),
    protocol_format: Optional[str] = typer.Option(None, "--format", metavar="<format>", help="Format of "
                                                  "--protocol."),
    cache: Optional[Path] = typer.Option(None, "--cache", metavar="<dir>", help=CACHE_HELP),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
    face: str = typer.Option("largest", "--face", metavar="<policy>", help=FACE_HELP),
    min_face: float = typer.Option(20.0, "--min-face", help="Smaller faces (pixels) are 'tiny face' failures."),
    label_depth: Optional[int] = typer.Option(None, "--label-depth", help="Which folder of an image path is "
                                              "the identity (default: from the layout, as `extract`)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Images per Dask task."),
    threads: Optional[int] = typer.Option(None, "--threads", help="onnxruntime threads per worker (default: "
                                          "the cores of this machine / local workers; 1 with --scheduler)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="<address>", help=SCHEDULER_HELP),
    dask_workers: Optional[int] = typer.Option(None, "--dask-workers", help=WORKERS_HELP),
    timeout: float = typer.Option(10.0, "--connect-timeout", help=TIMEOUT_HELP),
    no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
) -> None:
    """Detect, align and embed images on Dask workers; the cache, the failure report and the output stay
    on this machine.

    Same options and outputs as `facemetric extract`; an interrupted run resumes from the cache.

    Examples:

    - `facemetric scale extract data/lfw/images --detector dlib --embedder dlib --dask-workers 4 --out lfw.npz`
    - `facemetric scale extract /shared/images --detector dlib --embedder dlib --scheduler tcp://10.0.0.5:8786 --out all.npz`
    """
    from facemetric.extract import PipelineSpec
    from facemetric.scale import DaskRunner, dask_client
    from facemetric.scale.extract import check_batch_size

    check_output_file(out)
    detector = detector_spec(detector, det_size, upsample, face)
    items = select_images(images_root, list_file, protocol, protocol_format, label_depth)
    if threads is None:
        threads = 1 if scheduler is not None else max(1, (os.cpu_count() or 1) // (dask_workers or 2))
    spec = PipelineSpec(detector=detector, embedder=embedder, flip=flip, min_face=min_face, policy=face,
                        threads=threads)
    cache_dir = None if no_cache else (cache if cache is not None else default_cache(out))
    check_batch_size(batch_size)  # before a cluster starts
    with dask_client(scheduler, workers=dask_workers, timeout=timeout) as client:
        run_extraction(items, spec, out, cache_dir, no_progress, runner=DaskRunner(client, spec),
                       batch_size=batch_size)


def register(app: typer.Typer) -> None:
    """Add the `scale` command group (score, extract) to ``app``."""
    app.add_typer(scale_app, name="scale")
