"""Descriptor backends: aligned crops -> descriptors (one file per backend)."""

from facemetric.embed.base import Embedder
from facemetric.embed.factory import make_embedder
from facemetric.embed.flip import embed_with_flip, flip_crops

__all__ = ["Embedder", "embed_with_flip", "flip_crops", "make_embedder"]
