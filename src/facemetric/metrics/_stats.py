"""Statistics of labelled descriptors, shared by the learned metrics (private to facemetric.metrics).

Class means and counts, scatter and within-class covariance (float64, by chunks of rows, no
N x D float64 copy), shrinkage, a PCA basis and chunked projection; plus the identity filter
that within-class statistics need.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from facemetric.errors import InputError
from facemetric.metrics.base import ParameterWarning, SingletonIdentityWarning


def encode_labels(y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Identity labels -> (names, codes int64 0..K-1)."""
    names, codes = np.unique(np.asarray(y), return_inverse=True)
    return names, codes.astype(np.int64).ravel()


def drop_small_identities(
    X: np.ndarray, y: np.ndarray, owner: str, min_images: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Keep identities with at least ``min_images`` images; warn naming what was dropped.

    Methods that estimate a within-class scatter learn nothing from an identity seen once.
    Raises :class:`InputError` when fewer than two identities are left.
    """
    names, codes = encode_labels(y)
    counts = np.bincount(codes, minlength=names.size)
    small = counts < min_images
    if small.any():
        examples = ", ".join(repr(str(n)) for n in names[small][:3])
        warnings.warn(
            f"{owner}: dropped {int(small.sum())} of {names.size} identities with fewer than {min_images} "
            f"images ({int(counts[small].sum())} descriptors), e.g. {examples}; they carry no within-class "
            "information",
            SingletonIdentityWarning,
            stacklevel=3,
        )
    keep = ~small[codes]
    n_left = int((~small).sum())
    if n_left < 2:
        raise InputError(
            f"{owner} needs at least 2 identities with {min_images} or more images each (within-class "
            f"scatter); got {n_left} among {names.size} identities; add images of more identities"
        )
    return X[keep], np.asarray(y)[keep]


def class_means(
    X: np.ndarray, codes: np.ndarray, n_classes: int, chunk: int = 65536
) -> tuple[np.ndarray, np.ndarray]:
    """(K, D) float64 class means and (K,) counts, summed by chunks with a sparse indicator matrix."""
    from scipy import sparse

    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    sums = np.zeros((n_classes, X.shape[1]), dtype=np.float64)
    for lo in range(0, X.shape[0], chunk):
        c = codes[lo:lo + chunk]
        ind = sparse.csr_matrix((np.ones(c.size), (c, np.arange(c.size))), shape=(n_classes, c.size))
        sums += ind @ X[lo:lo + chunk].astype(np.float64)
    return sums / np.maximum(counts, 1)[:, None], counts


def scatter(X: np.ndarray, center: np.ndarray | None = None, chunk: int = 65536) -> np.ndarray:
    """``sum_i (x_i - c)(x_i - c)^T`` in float64, by chunks of rows (no N x D float64 copy)."""
    d = X.shape[1]
    S = np.zeros((d, d), dtype=np.float64)
    for lo in range(0, X.shape[0], chunk):
        B = X[lo:lo + chunk].astype(np.float64)
        if center is not None:
            B -= center
        S += B.T @ B
    return S


def within_class_scatter(
    X: np.ndarray,
    codes: np.ndarray,
    means: np.ndarray,
    chunk: int = 65536,
    row_weights: np.ndarray | None = None,
) -> np.ndarray:
    """``sum_i w_i (x_i - m_{y_i})(x_i - m_{y_i})^T`` in float64, by chunks of rows (default ``w_i = 1``)."""
    d = X.shape[1]
    S = np.zeros((d, d), dtype=np.float64)
    for lo in range(0, X.shape[0], chunk):
        B = X[lo:lo + chunk].astype(np.float64) - means[codes[lo:lo + chunk]]
        if row_weights is not None:
            B *= np.sqrt(row_weights[lo:lo + chunk])[:, None]
        S += B.T @ B
    return S


def within_class_covariance(X: np.ndarray, codes: np.ndarray, n_classes: int, balanced: bool) -> np.ndarray:
    """Pooled within-identity covariance; ``balanced`` weights every identity equally instead of every image.

    Balancing stops a few identities with hundreds of images from defining the
    within-class directions alone (LFW: one person has 530 of 13,233 images).
    """
    means, counts = class_means(X, codes, n_classes)
    if not balanced:
        return within_class_scatter(X, codes, means) / X.shape[0]
    w = 1.0 / np.maximum(counts - 1, 1)  # unbiased per-identity covariance, then averaged
    S = within_class_scatter(X, codes, means, row_weights=w[codes])
    return S / float((counts > 1).sum())


def shrink(S: np.ndarray, shrinkage: float) -> np.ndarray:
    """``(1 - a) S + a * mean(diag S) * I`` of the symmetrised ``S``: keeps a covariance well conditioned.

    ``a = 0`` returns ``(S + S^T) / 2`` (exactly ``S`` when it is symmetric, as scatters are).
    """
    S = (S + S.T) / 2
    if shrinkage <= 0:
        return S
    d = S.shape[0]
    return (1.0 - shrinkage) * S + shrinkage * (np.trace(S) / d) * np.eye(d)




def capped(owner: str, name: str, requested: int | None, cap: int, why: str) -> int:
    """``requested`` (``None``: ``cap``), warning with a :class:`ParameterWarning` when it exceeds ``cap``."""
    if requested is None:
        return cap
    if requested > cap:
        warnings.warn(f"{owner}: {name}={requested} but these data allow at most {cap} ({why}); using {cap}",
                      ParameterWarning, stacklevel=3)
        return cap
    return requested


def pca_basis(Z: np.ndarray, n_components: int | None, owner: str = "PCA",
              name: str = "n_components") -> tuple[np.ndarray, np.ndarray]:
    """``(mean (D,), V (D, k))``: the top-``k`` principal axes of ``Z`` (``None``: all, ``k <= n - 1``);
    a larger ``n_components`` is capped with a warning naming ``owner`` and ``name``."""
    n, d = Z.shape
    mean = Z.mean(axis=0, dtype=np.float64)
    evals, evecs = np.linalg.eigh(scatter(Z, mean))
    k = capped(owner, name, n_components, min(d, max(n - 1, 1)),
               f"principal axes: min(dimension {d}, descriptors - 1 = {n - 1})")
    return mean, evecs[:, np.argsort(evals)[::-1][:k]]


def project(Z: np.ndarray, mean: np.ndarray, V: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """``(Z - mean) @ V`` as float32, by chunks of rows (no N x D float64 temporary)."""
    out = np.empty((Z.shape[0], V.shape[1]), dtype=np.float32)
    for lo in range(0, Z.shape[0], chunk):
        out[lo:lo + chunk] = (Z[lo:lo + chunk].astype(np.float64) - mean) @ V
    return out
