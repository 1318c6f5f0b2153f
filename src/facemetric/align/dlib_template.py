"""Derive the 5-point ``dlib150`` template from dlib's own face chips.

dlib aligns a face for its ResNet descriptor with ``get_face_chip_details(shape, size=150,
padding=0.25)``: a similarity transform fitting 51 of the 68 landmarks to its mean face.
To express that chip as a 5-point template we, for each image:

1. detect the face (HOG) and predict its 68 landmarks;
2. recover dlib's chip transform exactly: extract the chip from two float images whose
   pixels hold their own x and y coordinates, so each chip pixel tells where dlib sampled
   it, and least-squares fit a similarity from chip pixels to image pixels;
3. map the 5 ArcFace points derived from the 68 into the chip.

The template is the mean over images. Per-face deviations from it (standard deviation about
2 px at the eyes, 3-6 px at nose and mouth on LFW) are the 51-point fit absorbing pose and
expression. Aligning with the 5-point fit to this template therefore lands 2-5 px (mean
over the face, on a 150 px chip) away from dlib's own 51-point chip on LFW faces.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from facemetric.align.similarity import apply_transform, estimate_similarity, invert_transform
from facemetric.errors import InputError, require

CHIP_SIZE = 150
CHIP_PADDING = 0.25


def dlib_chip_matrix(shape_68, image_shape: tuple[int, int], size: int = CHIP_SIZE,
                     padding: float = CHIP_PADDING) -> np.ndarray:
    """(2, 3) image-to-chip matrix of ``dlib.get_face_chip(image, shape_68, size, padding)``."""
    dlib = require("dlib", "images")
    details = dlib.get_face_chip_details(shape_68, size=size, padding=padding)
    h, w = image_shape[:2]
    ys, xs = np.mgrid[:h, :w].astype(np.float32)
    chip_x = dlib.extract_image_chip(np.ascontiguousarray(xs), details)
    chip_y = dlib.extract_image_chip(np.ascontiguousarray(ys), details)
    rows, cols = np.mgrid[:size, :size]
    # Use chip pixels sampled well inside the image (outside, dlib fills zeros).
    inside = (chip_x > 1) & (chip_x < w - 2) & (chip_y > 1) & (chip_y < h - 2)
    if inside.sum() < 100:
        raise InputError("the dlib chip falls outside the image; use faces away from the border")
    chip_pts = np.stack([cols[inside], rows[inside]], axis=1)
    img_pts = np.stack([chip_x[inside], chip_y[inside]], axis=1)
    return invert_transform(estimate_similarity(chip_pts, img_pts))


def derive_dlib150_template(images: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean (5, 2) chip position of the 5 points over ``images`` (uint8 RGB), and the per-face array."""
    from facemetric.detect.base import choose_face
    from facemetric.detect.dlib_hog import DlibHogDetector

    dlib = require("dlib", "images")
    detector = DlibHogDetector()
    points = []
    for image in images:
        found = detector.detect_68(image)
        if not found:
            continue
        face = choose_face([f for f, _ in found], image.shape, "central")
        pts68 = next(p for f, p in found if f is face)
        rect = dlib.rectangle(*[int(round(v)) for v in face.box])
        shape = dlib.full_object_detection(rect, [dlib.point(int(x), int(y)) for x, y in pts68])
        matrix = dlib_chip_matrix(shape, image.shape)
        points.append(apply_transform(matrix, face.landmarks))
    if not points:
        raise InputError("dlib found no face in any of the images given to derive the template")
    per_face = np.stack(points)
    return per_face.mean(axis=0), per_face
