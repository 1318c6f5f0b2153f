"""Read an image file as a uint8 RGB array, with one clear error for anything unusable.

Grayscale images are repeated to three channels; an alpha channel is composited onto
black (the usual choice for face photos with transparent borders) and dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facemetric.errors import bad_file, require


def read_image(path: str | Path) -> np.ndarray:
    """Return the image at ``path`` as a C-contiguous uint8 (H, W, 3) RGB array.

    Raises :class:`~facemetric.errors.InputError` naming the file when it is missing,
    empty, not an image, truncated or corrupt.
    """
    path = Path(path)
    if not path.is_file():
        raise bad_file(path, "no such image file", "check the path")
    if path.stat().st_size == 0:
        raise bad_file(path, "the image file is empty", "re-copy or remove it")
    Image = require("PIL.Image", "images")
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
            elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV", "F"):
                im = im.convert("RGB")
            mode = im.mode
            arr = np.asarray(im)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:  # unreadable data
        raise bad_file(path, f"cannot decode the image ({exc.__class__.__name__}: {exc})",
                       "the file is corrupt or not an image; re-copy or remove it") from exc
    return to_rgb(arr, source=path, mode=mode)


def to_rgb(arr: np.ndarray, source: str | Path = "image", mode: str = "") -> np.ndarray:
    """Convert a decoded array (gray, gray+alpha, RGB, RGBA; uint8 or 16-bit) to uint8 RGB."""
    arr = np.asarray(arr)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype == np.uint16 or mode.startswith("I;16") or mode == "I":
        arr = (arr.astype(np.float64) / max(float(arr.max()), 1.0) * 255.0).round().astype(np.uint8) \
            if arr.max() > 255 else arr.astype(np.uint8)
    elif arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and arr.max() <= 1.0:
            arr = (np.clip(arr, 0.0, 1.0) * 255.0).round()
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 2:  # gray + alpha
        gray = _composite(arr[:, :, :1], arr[:, :, 1])
        arr = np.repeat(gray, 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = _composite(arr[:, :, :3], arr[:, :, 3])
    elif arr.ndim == 3 and arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise bad_file(source, f"unsupported image layout {arr.shape}", "convert it to RGB JPEG or PNG")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise bad_file(source, "the image has no pixels", "re-copy or remove it")
    return np.ascontiguousarray(arr)


def _composite(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    return (color.astype(np.float32) * a).round().astype(np.uint8)
