"""Similarity alignment of faces to 5-point templates."""

from facemetric.align.similarity import apply_transform, estimate_similarity, invert_transform
from facemetric.align.templates import TEMPLATES, Template, get_template
from facemetric.align.warp import AlignedFace, align_face, warp_affine

__all__ = ["TEMPLATES", "AlignedFace", "Template", "align_face", "apply_transform", "estimate_similarity",
           "get_template", "invert_transform", "warp_affine"]
