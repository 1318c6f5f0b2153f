"""`facemetric extract`: images to a descriptor file, resumable, with a failure report."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.options import NO_PROGRESS_HELP
from facemetric.progress import progress_bar, progress_enabled
from facemetric.detect.base import DEFAULT_POLICY
from facemetric.detect.canvas import DEFAULT_MAX_SIDE, DEFAULT_PAD
from facemetric.errors import ConfigError
from facemetric.io.atomic import check_output_file


def default_cache(out: Path) -> Path:
    """``faces.npz`` -> ``faces.cache/`` next to the output."""
    return out.with_name(out.stem + ".cache")


def select_images(root: Path, list_file: Optional[Path], protocol: Optional[Path],
                  protocol_format: Optional[str], label_depth: Optional[int]):
    """The images to process: a --list file, a --protocol's images, or every image under ``root``.

    Prints a warning for labels that look wrong (one identity for all, or not the protocol's).
    """
    from facemetric.extract.inputs import select_images as select

    items, warnings = select(root, list_file=list_file, protocol=protocol, protocol_format=protocol_format,
                             label_depth=label_depth)
    for message in warnings:
        typer.secho(f"warning: {message}", err=True, fg="yellow")
    return items


IMAGES_ROOT_HELP = ("Folder of images, e.g. ROOT/IDENTITY/IMAGE.jpg (the identity folder is found from the "
                    "layout, CFP and LFW included; see --label-depth).")
DETECTOR_HELP = ("Face detector: dlib, scrfd:MODEL.onnx, yunet:MODEL.onnx or landmarks:FILE (5 points per image, "
                 "paths relative to IMAGES_ROOT). Optional suffix: @CANVAS for scrfd and yunet (see --det-size; "
                 f"default max{DEFAULT_MAX_SIDE['scrfd']} with a border of {DEFAULT_PAD['scrfd']:g} (scrfd) or "
                 f"{DEFAULT_PAD['yunet']:g} (yunet) of the image side), e.g. "
                 "scrfd:m.onnx@max640; @UPSAMPLE for dlib, e.g. dlib@1 or dlib@0,1.")
EMBEDDER_HELP = "Descriptor model: dlib (installs from PyPI) or onnx:MODEL.onnx (an ArcFace-style model)."
DET_SIZE_HELP = ("Canvas of scrfd and yunet: maxN keeps the photo's own size and only shrinks it to N at most "
                 f"(default max{DEFAULT_MAX_SIDE['scrfd']}: a small photo is never enlarged); N or WxH resizes it, "
                 "up or down, to that "
                 "fixed canvas (a multiple of 32 for scrfd). Same as @CANVAS in --detector.")
UPSAMPLE_HELP = ("dlib only: how often the image is doubled before HOG detection (default 1), or increasing "
                 "levels such as 0,1 (1 is tried only where 0 finds no face); same as @UPSAMPLE in "
                 "--detector.")
FACE_HELP = ("Face to keep when a photo shows several: central (the box centre nearest the image centre, right "
             "for photos centred on their subject) or largest (the largest box); default "
             f"{DEFAULT_POLICY}, chosen by measurement (docs/benchmarks.md).")
CACHE_HELP = "Cache folder for resuming (default: OUT without its extension, plus .cache, next to OUT)."
LIST_HELP = "Text file of image paths relative to IMAGES_ROOT, one per line; only those are processed."
PROTOCOL_HELP = "Process only the images of this pair protocol (e.g. LFW pairs.txt)."


def detector_spec(detector: str, det_size: Optional[str], upsample: Optional[str], face: str) -> str:
    """Check the detector options before any work starts; the spec with --det-size/--upsample folded in."""
    from facemetric.detect import CHOOSE_POLICIES
    from facemetric.detect.factory import compose_spec

    if face not in CHOOSE_POLICIES:
        raise ConfigError(f"--face must be one of {', '.join(CHOOSE_POLICIES)}; got {face!r}")
    return compose_spec(detector, det_size=det_size, upsample=upsample)


def extract(
    images_root: Path = typer.Argument(..., help=IMAGES_ROOT_HELP),
    detector: str = typer.Option(..., "--detector", metavar="<spec>", help=DETECTOR_HELP),
    det_size: Optional[str] = typer.Option(None, "--det-size", metavar="<size>", help=DET_SIZE_HELP),
    upsample: Optional[str] = typer.Option(None, "--upsample", metavar="<levels>", help=UPSAMPLE_HELP),
    embedder: str = typer.Option(..., "--embedder", metavar="<spec>", help=EMBEDDER_HELP),
    out: Path = typer.Option(..., "--out", metavar="<file>", help="Descriptor file to write (.npz or "
                             ".parquet); its folder must exist."),
    flip: bool = typer.Option(False, "--flip", help="Also store the descriptors of the mirrored crops "
                              "(X_flip)."),
    list_file: Optional[Path] = typer.Option(None, "--list", metavar="<file>", help=LIST_HELP),
    protocol: Optional[Path] = typer.Option(None, "--protocol", metavar="<file>", help=PROTOCOL_HELP),
    protocol_format: Optional[str] = typer.Option(None, "--format", metavar="<format>", help="Format of "
                                                  "--protocol (default: detected from the file)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Worker processes (default: the CPU "
                                          "cores, at most 4; 1 runs in this process)."),
    cache: Optional[Path] = typer.Option(None, "--cache", metavar="<dir>", help=CACHE_HELP),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
    face: str = typer.Option(DEFAULT_POLICY, "--face", metavar="<policy>", help=FACE_HELP),
    min_face: float = typer.Option(20.0, "--min-face", help="Faces whose box is smaller (pixels) are "
                                   "reported as 'tiny face'."),
    label_depth: Optional[int] = typer.Option(None, "--label-depth", metavar="<n>", help="Which folder of an "
                                              "image path is the identity (0 = first). Default: from the layout (CFP's "
                                              "Data/Images/ID/frontal/01.jpg, LFW's Name/Name_0001.jpg), "
                                              "else the first folder level that differs between images."),
    batch_size: int = typer.Option(16, "--batch-size", help="Images per batch sent to a worker."),
    fallback: str = typer.Option("none", "--fallback", metavar="<kind>", help="Photos in which no face is found: none (report "
                                 "them; the default) or center (describe a centred box aligned to the template, "
                                 "recorded per image in the failure report and the provenance)."),
    fallback_scale: float = typer.Option(0.5, "--fallback-scale", metavar="<share>", help="Side of the centred box, as a share of "
                                         "the photo's shorter side (0.5 fits LFW's 250x250 photos)."),
    no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
) -> None:
    """Detect, align and embed every image under IMAGES_ROOT; write descriptors keyed by the image path
    relative to IMAGES_ROOT.

    Failed images (unreadable, no face, tiny face) are listed in a .failures.csv next to OUT and never
    stop the run. Finished images are cached, so an interrupted run resumes where it stopped.

    Examples:

    - `facemetric extract data/lfw/images --protocol data/lfw/pairs.txt --detector dlib@0,1 --embedder dlib --flip --out lfw_dlib.npz`
    - `facemetric extract photos/ --detector scrfd:scrfd_2.5g_bnkps.onnx --embedder onnx:arcface.onnx --out photos.npz`
    - `facemetric extract photos/ --list todo.txt --detector dlib --embedder dlib --workers 1 --out some.npz`
    """
    from facemetric.extract import PipelineSpec
    from facemetric.extract.pipeline import default_workers
    from facemetric.extract.processor import check_fallback

    check_output_file(out)
    detector = detector_spec(detector, det_size, upsample, face)
    chosen_fallback = check_fallback(fallback, fallback_scale)
    n_workers = default_workers() if workers is None else workers
    if n_workers < 1:
        raise ConfigError(f"--workers must be >= 1; got {n_workers}")
    items = select_images(images_root, list_file, protocol, protocol_format, label_depth)
    threads = max(1, (os.cpu_count() or 1) // n_workers)
    spec = PipelineSpec(detector=detector, embedder=embedder, flip=flip, min_face=min_face, policy=face,
                        threads=threads, fallback=chosen_fallback, fallback_scale=fallback_scale)
    cache_dir = None if no_cache else (cache if cache is not None else default_cache(out))
    run_extraction(items, spec, out, cache_dir, no_progress, workers=n_workers, batch_size=batch_size)


def run_extraction(items, spec, out: Path, cache_dir: Path | None, no_progress: bool, **options) -> None:
    """Run :func:`extract_to_file` with a progress bar; report the outcome, or how to resume on Ctrl-C.

    ``options`` go to the pipeline (``workers``, ``batch_size``, or a ``runner`` such as Dask's).
    """
    from facemetric.extract import extract_to_file

    try:
        with progress_bar(progress_enabled(False if no_progress else None)) as bar:
            task = bar.add_task("extract", total=len(items))
            result, report = extract_to_file(
                items, spec, out, cache_dir=cache_dir,
                on_progress=lambda done, total: bar.update(task, completed=done, total=total), **options,
            )
    except KeyboardInterrupt:
        resume = "run the same command again to resume" if cache_dir else "nothing was cached (--no-cache)"
        typer.echo(f"interrupted: {out} was not written; {resume}", err=True)
        raise typer.Exit(130) from None
    ds = result.descriptors
    reasons = Counter(f.reason for f in result.failures if not f.fallback)
    typer.echo(f"{len(ds)} descriptors (dim {ds.dim}{', with flipped' if spec.flip else ''}) of "
               f"{result.n_images} images -> {out}; {result.n_cached} from the cache")
    summary = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) or "none"
    typer.echo(f"failures: {summary} -> {report}")
    if result.fallbacks:
        typer.echo(f"no face found in {len(result.fallbacks)} image(s), described from a centred box "
                   f"(--fallback {spec.fallback}); listed in {report}")
    elif reasons:
        typer.echo("evaluate and benchmark count their pairs as rejections (--missing reject)")


def register(app: typer.Typer) -> None:
    """Add the `extract` command to ``app``."""
    app.command("extract")(extract)
