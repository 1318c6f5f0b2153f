"""`facemetric align`: write aligned face crops and a contact sheet, to see the alignment."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Optional

import typer

from facemetric.progress import progress_bar, progress_enabled
from facemetric.cli.extract import DET_SIZE_HELP, DETECTOR_HELP, FACE_HELP, UPSAMPLE_HELP


def align(
    images_root: Path = typer.Argument(..., help="Folder of images, e.g. <root>/<identity>/<image>.jpg."),
    detector: str = typer.Option(..., "--detector", help=DETECTOR_HELP),
    det_size: Optional[str] = typer.Option(None, "--det-size", help=DET_SIZE_HELP),
    upsample: Optional[str] = typer.Option(None, "--upsample", help=UPSAMPLE_HELP),
    out: Path = typer.Option(..., "--out", help="Folder for the crops (<out>/<id>.png), contact_sheet.png "
                             "and failures.csv."),
    template: str = typer.Option("arcface112", "--template", help="arcface112 | sphereface112x96 | dlib150."),
    list_file: Optional[Path] = typer.Option(None, "--list", help="Only these images (paths relative to "
                                             "IMAGES_ROOT, one per line)."),
    protocol: Optional[Path] = typer.Option(None, "--protocol", help="Only the images of this protocol."),
    protocol_format: Optional[str] = typer.Option(None, "--format", help="Format of --protocol."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Align only the first N images."),
    face: str = typer.Option("largest", "--face", help=FACE_HELP),
    min_face: float = typer.Option(20.0, "--min-face",
                                   help="Smaller faces (pixels) are 'tiny face' failures."),
    sheet_size: int = typer.Option(64, "--sheet-size", help="Crops shown on the contact sheet."),
    no_progress: bool = typer.Option(False, "--no-progress", help="Switch the progress bar off."),
) -> None:
    """Detect and align faces to a template; write the crops and a contact sheet with the
    template's 5 points drawn in red (eyes, nose and mouth corners should sit under them)."""
    from facemetric.align import get_template
    from facemetric.cli.extract import detector_spec, select_images
    from facemetric.detect import make_detector
    from facemetric.errors import ConfigError
    from facemetric.extract.crops import align_images
    from facemetric.extract.pipeline import write_failure_report

    get_template(template)
    detector = detector_spec(detector, det_size, upsample, face)
    items = select_images(images_root, list_file, protocol, protocol_format, 0)
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
