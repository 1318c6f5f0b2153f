"""What processing one image yields: a descriptor (and its face), or the reason it failed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OK = "ok"
FALLBACK = "fallback"  # no face found: described from the fallback box (off unless asked for)
UNREADABLE = "unreadable"
NO_FACE = "no face"
TINY_FACE = "tiny face"
ERROR = "error"
REASONS = (UNREADABLE, NO_FACE, TINY_FACE, ERROR)


@dataclass(frozen=True, eq=False)
class ImageResult:
    """The outcome for one image. ``status`` is "ok", "fallback" (no face was found and the descriptor
    comes from the fallback box) or one of ``REASONS``; ``detail`` says more.

    On success ``x`` holds the descriptor, ``x_flip`` the flipped crop's (when asked for), and
    ``box`` (4,), ``landmarks`` (5, 2) and ``score`` the face it came from.
    """

    key: str
    status: str
    detail: str = ""
    x: np.ndarray | None = None
    x_flip: np.ndarray | None = None
    box: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    score: float = float("nan")

    @property
    def ok(self) -> bool:
        """A descriptor was made (from a detected face, or from the fallback box)."""
        return self.status in (OK, FALLBACK)

    @property
    def cacheable(self) -> bool:
        """Unexpected errors are not cached, so that the next run tries the image again."""
        return self.status != ERROR


def failed(key: str, status: str, detail: str) -> ImageResult:
    return ImageResult(key=key, status=status, detail=detail)
