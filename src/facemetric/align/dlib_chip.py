"""dlib's own face chip (``dlib.get_face_chip``), computed from a dlib shape predictor's points.

dlib's ResNet descriptor was trained, and its 99.38% LFW figure measured, on chips made by
``dlib.get_face_chip(image, shape, size=150, padding=0.25)``: dlib fits a similarity transform
from many of the 68 points (or its 5-point model's points) to its mean face, then samples the
chip bilinearly. The 5-point ``dlib150`` template only approximates that. This module rebuilds
dlib's ``full_object_detection`` from the stored points and asks dlib itself for the chip, so the
crop is dlib's exactly; the returned matrix (image -> chip pixels) is derived from dlib's chip
rectangle and angle.
"""

from __future__ import annotations

import numpy as np

from facemetric.align.warp import AlignedFace
from facemetric.errors import InputError, require

CHIP_NAME = "dlib-chip150"


def _full_object_detection(dlib, shape: np.ndarray):
    pts = np.asarray(shape, dtype=np.float64)
    if pts.shape not in ((68, 2), (5, 2)):
        raise InputError(f"dlib_chip needs the (68, 2) or (5, 2) points of a dlib shape predictor; got "
                         f"{pts.shape}")
    ints = np.rint(pts).astype(int)
    x0, y0 = ints.min(axis=0)
    x1, y1 = ints.max(axis=0)
    points = dlib.points([dlib.point(int(x), int(y)) for x, y in ints])
    return dlib.full_object_detection(dlib.rectangle(int(x0), int(y0), int(x1), int(y1)), points)


def chip_matrix(details) -> np.ndarray:
    """(2, 3) image -> chip affine matrix of a ``dlib.chip_details`` (rotation about the rect centre)."""
    r = details.rect
    cx, cy = (r.left() + r.right()) / 2.0, (r.top() + r.bottom()) / 2.0
    w, h = r.right() - r.left(), r.bottom() - r.top()
    sx, sy = (details.cols - 1) / w, (details.rows - 1) / h
    c, s = np.cos(details.angle), np.sin(details.angle)
    # image point p -> un-rotate about the centre -> offset from the rect's top-left -> scale
    rot = np.array([[c, s], [-s, c]])
    a = np.diag([sx, sy]) @ rot
    t = np.array([sx * w / 2, sy * h / 2]) - a @ np.array([cx, cy])
    return np.hstack([a, t[:, None]])


def dlib_chip(image: np.ndarray, shape: np.ndarray, size: int = 150, padding: float = 0.25) -> AlignedFace:
    """dlib's chip of the face whose dlib shape-predictor points are ``shape`` in ``image`` (uint8 RGB)."""
    dlib = require("dlib", "images")
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise InputError(f"dlib_chip needs a uint8 (H, W, 3) RGB image; got {image.dtype} {image.shape}")
    det = _full_object_detection(dlib, shape)
    details = dlib.get_face_chip_details(det, size, padding)
    crop = np.asarray(dlib.extract_image_chip(np.ascontiguousarray(image), details), dtype=np.uint8)
    return AlignedFace(crop=crop, matrix=chip_matrix(details), template=CHIP_NAME)
