"""Template pooling as IJB practice does it: by media first, then by template.

Each descriptor is L2-normalised; the images of one media (a photo, or the frames of one
video) are averaged, optionally weighted by a quality score; the media of a template are then
averaged. The direction of the result is the template's; its length is the mean length of the
template's descriptors, so that a template of one image is that image and metrics on raw,
unnormalised descriptors see templates at the scale of images (metrics that L2-normalise ignore
the length)::

    t = l2n( sum_media mean_{i in media} q_i * l2n(x_i) ) * mean_i ||x_i||

:class:`PooledScorer` makes any pair metric score templates: it pools, then prepares the
template descriptors with the metric.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from facemetric.errors import InputError
from facemetric.templates.groups import Groups

CHUNK = 65536


def pool_descriptors(X: np.ndarray, groups: Groups) -> np.ndarray:
    """(T, D) float32 template descriptors of ``X`` (N, D) grouped by ``groups`` (see the module docstring)."""
    X = np.asarray(X)
    T, d = groups.n_templates, X.shape[1]
    media_size = np.bincount(groups.media)[groups.media].astype(np.float64)
    q = np.ones(groups.rows.size) if groups.weights is None else groups.weights
    sums = np.zeros((T, d))
    norm_sums = np.zeros(T)
    for lo in range(0, groups.rows.size, CHUNK):
        sl = slice(lo, lo + CHUNK)
        B = X[groups.rows[sl]].astype(np.float64)
        norms = np.linalg.norm(B, axis=1)
        coef = q[sl] / (media_size[sl] * np.maximum(norms, 1e-12))
        ind = sparse.csr_matrix((coef, (groups.template[sl], np.arange(B.shape[0]))), shape=(T, B.shape[0]))
        sums += ind @ B
        norm_sums += np.bincount(groups.template[sl], weights=norms, minlength=T)
    length = np.linalg.norm(sums, axis=1)
    if (length <= 0).any():
        bad = groups.names[np.flatnonzero(length <= 0)[0]]
        raise InputError(f"template {str(bad)!r} pools to a zero vector (all its quality weights are 0, or its "
                         "descriptors cancel out); give it images with positive quality")
    return (sums * (norm_sums / groups.sizes / length)[:, None]).astype(np.float32)


class PooledScorer:
    """Any pair metric on templates: pool the descriptors of each template, then score as images.

    ``encode(X, groups)`` returns the metric's prepared template descriptors (``groups=None``:
    every row of ``X`` as itself, unpooled); ``score_prepared`` and ``score_matrix`` are the metric's.
    """

    native = False

    def __init__(self, metric: Any) -> None:
        self.metric = metric

    @property
    def dot_product_scores(self) -> bool:
        return bool(getattr(self.metric, "dot_product_scores", False))

    def encode(self, X: np.ndarray, groups: Groups | None = None) -> np.ndarray:
        return self.metric.prepare(X if groups is None else pool_descriptors(X, groups))

    def score_prepared(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        return np.asarray(self.metric.score_prepared(A, B), dtype=np.float64)

    def score_matrix(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        return self.metric.score_matrix(A, B)
