"""`facemetric align`: write aligned face crops and a contact sheet, to see the alignment."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.extract import (
    DET_SIZE_HELP,
    DETECTOR_HELP,
    FACE_HELP,
    IMAGES_ROOT_HELP,
    LIST_HELP,
    UPSAMPLE_HELP,
)
from facemetric.cli.options import NO_PROGRESS_HELP
from facemetric.progress import progress_bar, progress_enabled
from facemetric.detect.base import DEFAULT_POLICY


def align(
    images_root: Path = typer.Argument(..., help=IMAGES_ROOT_HELP),
    detector: str = typer.Option(..., "--detector", metavar="<spec>", help=DETECTOR_HELP),
    det_size: Optional[str] = typer.Option(None, "--det-size", metavar="<size>", help=DET_SIZE_HELP),
    upsample: Optional[str] = typer.Option(None, "--upsample", metavar="<levels>", help=UPSAMPLE_HELP),
    out: Path = typer.Option(..., "--out", metavar="<dir>", help="Folder for the crops (one PNG per "
                             "image), contact_sheet.png and failures.csv."),
    template: str = typer.Option("arcface112", "--template", metavar="<name>", help="Alignment template: "
                                 "arcface112, sphereface112x96 or dlib150."),
    list_file: Optional[Path] = typer.Option(None, "--list", metavar="<file>", help=LIST_HELP),
    protocol: Optional[Path] = typer.Option(None, "--protocol", metavar="<file>", help="Only the images of "
                                            "this pair protocol."),
    protocol_format: Optional[str] = typer.Option(None, "--format", metavar="<format>", help="Format of "
                                                  "--protocol (default: detected from the file)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Align only the first N images."),
    face: str = typer.Option(DEFAULT_POLICY, "--face", metavar="<policy>", help=FACE_HELP),
    min_face: float = typer.Option(20.0, "--min-face",
                                   help="Smaller faces (pixels) are 'tiny face' failures."),
    sheet_size: int = typer.Option(64, "--sheet-size", help="Crops shown on the contact sheet."),
    no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
) -> None:
    """Detect and align faces to a template; write the crops and a contact sheet with the 5 points of the
    template drawn in red (the eyes, nose and mouth corners should sit under them).

    Examples:

    - `facemetric align data/lfw/images --detector dlib --limit 64 --out crops/`
    - `facemetric align photos/ --detector scrfd:scrfd_2.5g_bnkps.onnx --template arcface112 --out crops/`
    """
    from facemetric.align import get_template
    from facemetric.cli.extract import detector_spec, select_images
    from facemetric.detect import make_detector
    from facemetric.errors import ConfigError
    from facemetric.extract.crops import align_images
    from facemetric.extract.pipeline import write_failure_report

    get_template(template)
    detector = detector_spec(detector, det_size, upsample, face)
    items = select_images(images_root, list_file, protocol, protocol_format, None)
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--limit must be >= 1; got {limit}")
        items = items[:limit]
    det = make_detector(detector)
    with progress_bar(progress_enabled(False if no_progress else None)) as bar:
        task = bar.add_task("align", total=len(items))
        result = align_images(items, det, out, template=template, policy=face, min_face=min_face,
                              sheet_size=sheet_size,
                              on_progress=lambda done, total: bar.update(task, completed=done))
    report = write_failure_report(result.failures, Path(out) / "failures.csv")
    if not result.written:
        raise ConfigError(f"no face aligned: all {len(items)} image(s) failed; see {report}")
    reasons = Counter(f.reason for f in result.failures)
    typer.echo(f"{len(result.written)} aligned {template} crops -> {out}")
    if result.sheet is not None:
        typer.echo(f"contact sheet -> {result.sheet}")
    summary = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) or "none"
    typer.echo(f"failures: {summary} -> {report}")


def register(app: typer.Typer) -> None:
    """Add the `align` command to ``app``."""
    app.command("align")(align)
