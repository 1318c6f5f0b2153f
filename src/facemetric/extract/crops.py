"""Aligned crops on disk and a contact sheet, so that a user can see what the embedder will see."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from facemetric.detect.base import DEFAULT_POLICY
from facemetric.errors import InputError, require
from facemetric.extract.inputs import ImageItem
from facemetric.extract.pipeline import Failure
from facemetric.extract.result import ERROR, UNREADABLE
from facemetric.io.atomic import atomic_path


@dataclass
class AlignResult:
    written: list[str]
    failures: list[Failure]
    sheet: Path | None


def align_images(
    items: Sequence[ImageItem],
    detector: Any,
    out_dir: str | Path,
    *,
    template: str = "arcface112",
    policy: str = DEFAULT_POLICY,
    min_face: float = 20.0,
    sheet_size: int = 64,
    on_progress: Callable[[int, int], None] | None = None,
) -> AlignResult:
    """Detect, choose and align each image; write ``out_dir/<id>.png`` and ``out_dir/contact_sheet.png``.

    The sheet shows the first ``sheet_size`` crops with the template's 5 points drawn as red
    dots: on a good alignment the eyes, nose tip and mouth corners sit under the dots.
    """
    from facemetric.align import get_template
    from facemetric.extract.processor import ImageProcessor

    tpl = get_template(template)
    out_dir = Path(out_dir)
    chooser = ImageProcessor(detector, embedder=None, template=tpl.name, min_face=min_face, policy=policy)
    written, failures, crops = [], [], []
    for n, it in enumerate(items, 1):
        crop = _aligned(it, chooser, tpl, failures)
        if crop is not None:
            save_png(crop, out_dir / Path(it.id).with_suffix(".png"))
            written.append(it.id)
            if len(crops) < sheet_size:
                crops.append(crop)
        if on_progress:
            on_progress(n, len(items))
    sheet = None
    if crops:
        sheet = out_dir / "contact_sheet.png"
        save_png(contact_sheet(crops, tpl.points), sheet)
    return AlignResult(written, failures, sheet)


def _aligned(it: ImageItem, chooser: Any, tpl: Any, failures: list[Failure]) -> np.ndarray | None:
    """The aligned crop of one image, or None after appending its failure."""
    from facemetric.images import read_image

    try:
        image = read_image(it.path)
    except InputError as exc:
        failures.append(Failure(it.id, UNREADABLE, str(exc)))
        return None
    try:
        face, why = chooser.face_of(image, it.id)
        if face is None:
            failures.append(Failure(it.id, *why))
            return None
        return chooser.align(image, face).crop
    except Exception as exc:  # noqa: BLE001 - one image never stops the run
        failures.append(Failure(it.id, ERROR, f"{exc.__class__.__name__}: {exc}"))
        return None


def save_png(image: np.ndarray, path: Path) -> None:
    Image = require("PIL.Image", "images")
    with atomic_path(path, suffix=".png.tmp") as tmp:
        Image.fromarray(image).save(tmp, format="PNG")


def contact_sheet(crops: Sequence[np.ndarray], points: np.ndarray | None = None, columns: int | None = None,
                  gap: int = 2) -> np.ndarray:
    """Tile equally sized crops in a grid (white gaps); mark ``points`` (5, 2) on each with red dots."""
    h, w = crops[0].shape[:2]
    n = len(crops)
    columns = columns or min(n, max(1, math.ceil(math.sqrt(n))))
    rows = math.ceil(n / columns)
    sheet = np.full((rows * (h + gap) + gap, columns * (w + gap) + gap, 3), 255, np.uint8)
    for k, crop in enumerate(crops):
        tile = crop.copy()
        if points is not None:
            for x, y in np.round(points).astype(int):
                tile[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] = (255, 0, 0)
        r, c = divmod(k, columns)
        y0, x0 = gap + r * (h + gap), gap + c * (w + gap)
        sheet[y0:y0 + h, x0:x0 + w] = tile
    return sheet
