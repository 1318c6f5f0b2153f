"""Where an image goes on a detector's network input (the canvas), and the measured defaults.

Two rules, both keeping the aspect ratio and placing the resized image at the top left:

* **fitted** (``@maxN``; the default): the image keeps its own size unless its longer side is
  above ``max_side``, in which case it is scaled down to ``max_side``; the canvas is that size
  rounded up to the network stride (32). A small photo is never blown up, and a small image
  costs a small canvas. A model with a fixed input shape (the int8 YuNet) keeps its own canvas
  and the image sits on it at that scale.
* **fixed** (``@N`` or ``@WxH``): the image is resized, up or down, to fit a canvas of that size.

Blowing a small photo up onto a large canvas pushes its face past the detector's largest
anchors and costs time for nothing. The defaults below were chosen by measurement on LFW's
largest-yaw photos, small cropped and flipped variants of them, tight 112x112 crops and
ordinary photos at three resolutions (``benchmarks/bench_detect.py``; the table and the
reasons are in docs/benchmarks.md and docs/extraction.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from facemetric.detect.geometry import Letterbox
from facemetric.errors import ConfigError

STRIDE = 32

#: Longest image side on the network canvas by default (fitted rule), per detector: the rule of
#: docs/benchmarks.md applied to docs/data/detectors.json ("chosen"; a test checks they agree).
DEFAULT_MAX_SIDE = {"scrfd": 320, "yunet": 320}
#: Black border added on every side before detecting, as a fraction of the longer image side
#: (scrfd and yunet: measured as above; dlib: its own measurement, docs/benchmarks.md).
DEFAULT_PAD = {"scrfd": 0.25, "yunet": 0.5, "dlib": 0.25}

_FIXED = re.compile(r"^(\d+)(?:x(\d+))?$")
_FITTED = re.compile(r"^max(\d+)$")


@dataclass(frozen=True)
class CanvasRule:
    """``size`` (w, h) for a fixed canvas, else ``max_side`` for a fitted one; ``upscale`` lets a
    fixed canvas enlarge small images (an explicit ``@N`` does, as it always has)."""

    size: tuple[int, int] | None = None
    max_side: int | None = None
    upscale: bool = False

    def __post_init__(self) -> None:
        if (self.size is None) == (self.max_side is None):
            raise ConfigError("a canvas rule needs either a fixed size or a max_side, not both")
        if self.size is not None:
            size = (int(self.size[0]), int(self.size[1]))
            if min(size) < 32:
                raise ConfigError(f"a detector canvas must be at least 32 pixels; got {size}")
            object.__setattr__(self, "size", size)
        elif int(self.max_side) < 32:
            raise ConfigError(f"the longest side on a detector canvas must be at least 32 pixels; "
                              f"got {self.max_side}")

    @property
    def label(self) -> str:
        """``"640x640"`` for a fixed canvas, ``"max320"`` for a fitted one (the spec suffix)."""
        return f"{self.size[0]}x{self.size[1]}" if self.size is not None else f"max{self.max_side}"

    def describe(self, model_size: tuple[int, int] | None = None) -> dict:
        """The rule as provenance records it (no paths): canvas label, fixed or fitted, upscaling."""
        if model_size is not None:
            fitted_on_model = not (self.upscale and self.max_side is None)
            return {"canvas": f"{model_size[0]}x{model_size[1]}" + (f"-{self.label}" if fitted_on_model else ""),
                    "rule": "fitted on the model's fixed input" if fitted_on_model else "fixed",
                    "max_side": self.max_side, "upscale": self.upscale}
        return {"canvas": self.label, "rule": "fixed" if self.size is not None else "fitted",
                "max_side": self.max_side, "upscale": self.upscale}

    def place(self, width: int, height: int, model_size: tuple[int, int] | None = None) -> Letterbox:
        """Where a ``width`` x ``height`` image goes; ``model_size`` is a fixed model input, which wins."""
        if width < 1 or height < 1:
            raise ConfigError(f"cannot place an empty image ({width}x{height}) on a detector canvas")
        canvas = model_size or self.size
        limits = [] if self.upscale else [1.0]
        if canvas is not None:
            limits.append(min(canvas[0] / width, canvas[1] / height))
        if self.max_side is not None:
            limits.append(self.max_side / max(width, height))
        scale = min(limits)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        if canvas is None:
            canvas = (max(STRIDE, -(-new_w // STRIDE) * STRIDE), max(STRIDE, -(-new_h // STRIDE) * STRIDE))
        return Letterbox(sx=new_w / width, sy=new_h / height, width=int(canvas[0]), height=int(canvas[1]),
                         resized_width=new_w, resized_height=new_h)


def parse_canvas(text: str, what: str = "detector size") -> CanvasRule:
    """``"320"`` or ``"640x480"`` -> a fixed canvas (resized up or down to fit); ``"max320"`` -> fitted."""
    t = str(text).strip().lower()
    fixed, fitted = _FIXED.match(t), _FITTED.match(t)
    if fixed and min(int(fixed.group(1)), int(fixed.group(2) or fixed.group(1))) >= 32:
        return CanvasRule(size=(int(fixed.group(1)), int(fixed.group(2) or fixed.group(1))), upscale=True)
    if fitted and int(fitted.group(1)) >= 32:
        return CanvasRule(max_side=int(fitted.group(1)))
    raise ConfigError(f"the {what} must be N or WxH pixels (a fixed canvas, at least 32), or maxN (the image's "
                      f"own size, scaled down to N at most), e.g. 320, 640x480 or max640; got {text!r} instead")


def is_canvas(text: str) -> bool:
    """Whether ``text`` reads as a canvas suffix (``320``, ``640x480``, ``max320``)."""
    t = str(text).strip().lower()
    return bool(_FIXED.match(t) or _FITTED.match(t))


def default_canvas(kind: str) -> CanvasRule:
    """The measured default rule of detector ``kind`` ("scrfd" or "yunet")."""
    return CanvasRule(max_side=DEFAULT_MAX_SIDE[kind])


class CanvasDetector:
    """What the ONNX detectors share about their canvas: ``canvas_`` (a :class:`CanvasRule`) and
    ``model_size_`` (the model's fixed input (w, h), or None when its input follows the image)."""

    canvas_: CanvasRule
    model_size_: tuple[int, int] | None

    @property
    def canvas_label(self) -> str:
        """``640x640`` (a fixed canvas the image is fitted to), ``max640`` (fitted to the image), or
        ``640x640-max640`` (a fixed model input with the image at its own size, down to 640 at most)."""
        return self.settings["canvas"]

    @property
    def settings(self) -> dict:
        """The canvas rule, for the extraction cache and the provenance."""
        return self.canvas_.describe(self.model_size_)

    @property
    def input_size_(self) -> tuple[int, int] | None:
        """The fixed canvas (w, h), or None when it follows the image (fitted rule)."""
        return self.model_size_ or self.canvas_.size
