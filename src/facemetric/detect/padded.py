"""Pad an image with a black border before detecting, and map the faces back.

Tight face crops (LFW's 250x250 images, insightface's 112x112 crops) show a face that
fills the frame. Detectors trained on scenes expect faces well inside the picture and
smaller than the canvas, so they miss such faces; a border of half the image size on
each side (``fraction=0.5``) restores the context they expect. When the padded image
yields no face, the image is tried once more as it is (a face near the border can lose
to the padding), so padding never loses a face that the bare detector finds.
"""

from __future__ import annotations

import numpy as np

from facemetric.detect.base import Detector, Face, check_image
from facemetric.detect.geometry import pad_image
from facemetric.errors import ConfigError


class PaddedDetector:
    """Wrap ``detector``: add ``fraction`` x the longer side of black border on every side."""

    def __init__(self, detector: Detector, fraction: float = 0.5):
        if not 0.0 <= fraction <= 4.0:
            raise ConfigError(f"The 'pad' parameter must be in [0, 4] (fraction of the image size); "
                              f"got {fraction!r} instead")
        self.detector = detector
        self.fraction = float(fraction)
        self.name = f"{detector.name}+pad{self.fraction:g}" if self.fraction else detector.name
        self.model_hash = getattr(detector, "model_hash", "")
        self.gives_dlib_shape = getattr(detector, "gives_dlib_shape", False)
        inner = getattr(detector, "settings", None)  # the canvas rule of scrfd / yunet
        self.settings = None if inner is None else {**inner, "pad": self.fraction}

    def detect(self, image_rgb: np.ndarray, image_id: str | None = None) -> list[Face]:
        padded, dx, dy = pad_image(check_image(image_rgb), self.fraction)
        faces = self.detector.detect(padded, image_id)
        if faces or not (dx or dy):
            return [f.shifted(dx, dy) for f in faces] if (dx or dy) else faces
        return self.detector.detect(image_rgb, image_id)
