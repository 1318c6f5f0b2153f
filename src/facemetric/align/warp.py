"""Warp a face onto a template with the similarity transform of its 5 landmarks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facemetric.align.similarity import estimate_similarity
from facemetric.align.templates import Template, get_template
from facemetric.errors import InputError, require


@dataclass(frozen=True, eq=False)
class AlignedFace:
    """``crop`` uint8 (h, w, 3) RGB; ``matrix`` (2, 3) maps image pixels to crop pixels;
    ``template`` is the template's name."""

    crop: np.ndarray
    matrix: np.ndarray
    template: str


def warp_affine(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``cv2.warpAffine`` with bilinear sampling and a black border; ``size`` is (width, height)."""
    cv2 = require("cv2", "images")
    return cv2.warpAffine(image, np.asarray(matrix, dtype=np.float64), (int(size[0]), int(size[1])),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def align_face(image: np.ndarray, landmarks: np.ndarray,
               template: str | Template = "arcface112") -> AlignedFace:
    """Similarity-align the face with ``landmarks`` (5, 2) in ``image`` (uint8 RGB) to ``template``."""
    tpl = get_template(template)
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise InputError(f"align_face needs a uint8 (H, W, 3) RGB image; got {image.dtype} {image.shape}")
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (5, 2):
        raise InputError(f"align_face needs (5, 2) landmarks; got shape {lm.shape}")
    matrix = estimate_similarity(lm, tpl.points)
    return AlignedFace(crop=warp_affine(image, matrix, tpl.size), matrix=matrix, template=tpl.name)
