"""5-point alignment templates: where the eyes, nose tip and mouth corners land in the crop.

Points are in the ArcFace order (image-left eye, image-right eye, nose tip, left and right
mouth corner), in pixels of the output crop, x first.

* ``arcface112``: InsightFace's 112x112 template (``arcface_dst`` in
  insightface/utils/face_align.py), used by ArcFace / MobileFaceNet ONNX models.
* ``sphereface112x96``: the SphereFace / CosFace 96 (wide) x 112 (high) template; it is
  the ArcFace one shifted 8 px left (ArcFace's was made by padding it to 112 wide).
* ``dlib150``: the 150x150 chip that ``dlib.get_face_chip(img, shape, size=150,
  padding=0.25)`` cuts for dlib's ResNet descriptor. dlib fits a similarity from 51 of
  the 68 landmarks to its mean face shape, so there is no 5-point template in dlib; this
  one was derived empirically by :func:`facemetric.align.dlib_template.derive_dlib150_template`:
  on 300 deep-funneled LFW images (the first image, in sorted order, of each of the first
  300 identities in sorted order; dlib found a face in all of them) we ran the HOG
  detector and 68-point predictor, took dlib's own chip transform (recovered exactly by extracting a chip from
  images holding the x and y coordinates), mapped the 5 points derived from the 68
  (eye centre = mean of the 6 eye points, nose = 30, mouth corners = 48, 54) into the chip,
  and averaged them (per-face standard deviation: about 2 px at the eyes, 3-6 px at the
  nose and mouth, from pose and expression). ``tests/align/test_templates.py`` re-derives
  it from other images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facemetric.errors import ConfigError


@dataclass(frozen=True)
class Template:
    """Output crop size ``(width, height)`` and the (5, 2) target landmark positions."""

    name: str
    size: tuple[int, int]
    points: np.ndarray

    def __post_init__(self) -> None:
        pts = np.asarray(self.points, dtype=np.float64)
        if pts.shape != (5, 2):
            raise ConfigError(f"template {self.name!r} must have (5, 2) points; got {pts.shape}")
        pts.setflags(write=False)
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "size", (int(self.size[0]), int(self.size[1])))


ARCFACE_112 = Template(
    "arcface112",
    (112, 112),
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
)
SPHEREFACE_112x96 = Template(
    "sphereface112x96",
    (96, 112),
    [[30.2946, 51.6963], [65.5318, 51.5014], [48.0252, 71.7366], [33.5493, 92.3655], [62.7299, 92.2041]],
)
DLIB_150 = Template(
    "dlib150",
    (150, 150),
    [[47.1350, 46.2182], [99.8687, 46.2071], [73.5022, 75.3235], [49.8235, 103.6573], [97.3740, 103.6223]],
)

TEMPLATES: dict[str, Template] = {t.name: t for t in (ARCFACE_112, SPHEREFACE_112x96, DLIB_150)}


def get_template(template: str | Template) -> Template:
    """Look a template up by name (or pass a :class:`Template` through)."""
    if isinstance(template, Template):
        return template
    if template not in TEMPLATES:
        raise ConfigError(f"unknown alignment template {template!r}; use one of {', '.join(TEMPLATES)}")
    return TEMPLATES[template]
