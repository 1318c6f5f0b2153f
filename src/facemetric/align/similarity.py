"""Least-squares similarity transform between point sets (Umeyama 1991), without reflection."""

from __future__ import annotations

import numpy as np

from facemetric.errors import InputError


def estimate_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The (2, 3) float64 matrix ``[s R | t]`` minimising sum ||s R src_i + t - dst_i||^2.

    R is a proper rotation (det +1): a mirrored face is never "aligned" by a flip.
    Follows S. Umeyama, "Least-squares estimation of transformation parameters between
    two point patterns", IEEE TPAMI 13(4), 1991, eqs. 34-43.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.ndim != 2 or src.shape[1] != 2 or src.shape != dst.shape:
        raise InputError(f"similarity estimation needs two (N, 2) point arrays of the same shape; "
                         f"got {src.shape} and {dst.shape}")
    if src.shape[0] < 2:
        raise InputError(f"similarity estimation needs at least 2 points; got {src.shape[0]}")
    if not (np.isfinite(src).all() and np.isfinite(dst).all()):
        raise InputError("landmarks contain NaN or inf; check the detector output or the landmarks file")
    n = src.shape[0]
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    sc, dc = src - mu_s, dst - mu_d
    var_s = (sc**2).sum() / n
    if var_s <= 1e-12:
        raise InputError("all source landmarks coincide; a similarity transform is undefined")
    cov = dc.T @ sc / n
    U, S, Vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        d[-1] = -1.0
    R = U @ np.diag(d) @ Vt
    scale = float((S * d).sum() / var_s)
    t = mu_d - scale * R @ mu_s
    return np.hstack([scale * R, t[:, None]])


def apply_transform(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) points through a (2, 3) affine matrix."""
    points = np.asarray(points, dtype=np.float64)
    return points @ np.asarray(matrix, dtype=np.float64)[:, :2].T + np.asarray(matrix)[:, 2]


def invert_transform(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a (2, 3) affine matrix, as (2, 3)."""
    m = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(m)[:2]
