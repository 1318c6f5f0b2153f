"""Flip fusion: describe each crop and its mirror image.

The pipeline stores both (``DescriptorSet.X`` and ``X_flip``); ``DescriptorSet.fused``
then sums or concatenates them. Mirroring is exact on crops aligned to the symmetric
templates, so the two descriptors see the same face from slightly different evidence.
"""

from __future__ import annotations

import numpy as np

from facemetric.embed.base import Embedder


def flip_crops(crops: np.ndarray) -> np.ndarray:
    """Mirror (N, H, W, 3) crops left-right."""
    return np.ascontiguousarray(np.asarray(crops)[:, :, ::-1])


def embed_with_flip(embedder: Embedder, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(embed(crops), embed(mirrored crops))``, both (N, dim) float32, in one batch."""
    crops = embedder.check_crops(crops)
    both = embedder.embed(np.concatenate([crops, flip_crops(crops)]))
    n = crops.shape[0]
    return both[:n], both[n:]
