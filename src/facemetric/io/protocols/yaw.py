"""Head yaw from five facial landmarks, by a geometric proxy (no 3-D model fit, no PnP).

Landmarks are in the ArcFace order: left eye, right eye, nose tip, left and right mouth corner.

The proxy: the nose tip sits in front of the plane of the eyes and mouth corners. When the
head turns by yaw ``t``, an orthographic camera sees the nose move sideways by
``depth * sin(t)`` away from the face's midline (the line through the eye midpoint and the
mouth midpoint), while the distance between the eyes shrinks to ``iod * cos(t)``. So

    offset / observed_iod = (depth / iod) * tan(t)      ->      t = atan(ratio / NOSE_DEPTH_RATIO)

The offset is measured along the eye line, so in-plane rotation (roll) cancels; pitch moves
points along the midline and barely changes the offset. ``NOSE_DEPTH_RATIO`` is the nose
depth in front of the eye/mouth plane divided by the inter-ocular distance of an average
adult face (about 28 mm / 63 mm). It only scales the angle: the order of images by |yaw|
does not depend on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.errors import InputError

NOSE_DEPTH_RATIO = 0.45


def yaw_ratio(landmarks: Any) -> np.ndarray:
    """Signed nose offset from the eye-mouth midline over the observed inter-ocular distance.

    Positive when the nose tip lies on the right-eye side (larger x for an upright face).
    NaN where the eyes coincide.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[1:] != (5, 2):
        raise InputError(f"landmarks must have shape (N, 5, 2); got {pts.shape}")
    if not np.isfinite(pts).all():
        raise InputError("landmarks contain NaN or inf values; drop those faces first")
    left_eye, right_eye, nose, left_mouth, right_mouth = (pts[:, i] for i in range(5))
    eye_mid = 0.5 * (left_eye + right_eye)
    mouth_mid = 0.5 * (left_mouth + right_mouth)
    eye_axis = right_eye - left_eye
    iod = np.linalg.norm(eye_axis, axis=1)
    midline = mouth_mid - eye_mid
    mid_len2 = np.einsum("ij,ij->i", midline, midline)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.einsum("ij,ij->i", nose - eye_mid, midline) / mid_len2
        t = np.where(mid_len2 > 0, t, 0.0)
        foot = eye_mid + t[:, None] * midline
        offset = np.einsum("ij,ij->i", nose - foot, eye_axis) / iod
        ratio = offset / iod
    return np.where(iod > 0, ratio, np.nan)


def estimate_yaw(landmarks: Any, nose_depth_ratio: float = NOSE_DEPTH_RATIO) -> np.ndarray:
    """Yaw in degrees for each face of ``landmarks`` (N, 5, 2); 0 is frontal.

    The sign is positive when the nose points towards larger x in the image.
    """
    if not nose_depth_ratio > 0:
        raise InputError(f"The 'nose_depth_ratio' parameter must be > 0. Got {nose_depth_ratio!r} instead.")
    return np.degrees(np.arctan(yaw_ratio(landmarks) / nose_depth_ratio))


def yaw_or_nan(landmarks: Any) -> np.ndarray:
    """:func:`estimate_yaw` of each face of ``landmarks`` (N, 5, 2), NaN where a face has non-finite points."""
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[1:] != (5, 2):
        raise InputError(f"landmarks must have shape (N, 5, 2); got {pts.shape}")
    out = np.full(pts.shape[0], np.nan)
    ok = np.isfinite(pts).all(axis=(1, 2))
    if ok.any():
        out[ok] = estimate_yaw(pts[ok])
    return out
