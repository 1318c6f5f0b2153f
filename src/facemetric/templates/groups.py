"""Rows of a descriptor matrix grouped into templates, and media inside templates.

:class:`Groups` is what pooling and set scoring consume: for each member row, its template
code (0..T-1) and its media code, plus optional quality weights. It is built from a
:class:`~facemetric.templates.protocol.TemplateMap` resolved against a descriptor set, from
identity labels (one template per identity), or as one template per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facemetric.errors import InputError
from facemetric.templates.protocol import TemplateMap, template_subjects
from facemetric.types import DescriptorSet


@dataclass(frozen=True, eq=False)
class Groups:
    """``rows`` (R,) rows of X; ``template`` (R,) codes in ``[0, n_templates)``; ``media`` (R,) codes
    unique across templates; ``weights`` (R,) quality weights or None; ``names`` (T,) template
    names and ``subjects`` (T,) their subject ("" = unknown)."""

    rows: np.ndarray
    template: np.ndarray
    media: np.ndarray
    names: np.ndarray
    subjects: np.ndarray
    weights: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.names)
        if n == 0:
            raise InputError("there are no templates: the gallery or probe set is empty; give at least one image")
        sizes = np.bincount(self.template, minlength=n)
        if (sizes == 0).any():
            empty = self.names[np.flatnonzero(sizes == 0)[0]]
            raise InputError(f"template {str(empty)!r} has no images; every template needs at least one descriptor")
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=np.float64)
            if w.shape != self.rows.shape or not np.isfinite(w).all() or (w < 0).any():
                raise InputError(f"quality weights must be {self.rows.size} finite values >= 0, one per image")
            object.__setattr__(self, "weights", w)

    @property
    def n_templates(self) -> int:
        return len(self.names)

    @property
    def sizes(self) -> np.ndarray:
        """Images per template (T,)."""
        return np.bincount(self.template, minlength=self.n_templates)

    @classmethod
    def singletons(cls, descriptors: DescriptorSet) -> Groups:
        """Every row its own template (named by its image id, subject its label)."""
        n = len(descriptors)
        idx = np.arange(n)
        return cls(idx, idx, idx, descriptors.ids, descriptors.labels)

    @classmethod
    def by_label(cls, descriptors: DescriptorSet, what: str = "descriptor set") -> Groups:
        """One template per identity label; each image is its own media. Unknown labels ("") refused."""
        if len(descriptors) and (descriptors.labels == "").any():
            k = int(np.flatnonzero(descriptors.labels == "")[0])
            raise InputError(f"{what}: image {descriptors.ids[k]!r} has no identity label, so it cannot be pooled "
                             "into its identity's template; give labels or use --no-pool")
        names, codes = np.unique(descriptors.labels, return_inverse=True)
        idx = np.arange(len(descriptors))
        return cls(idx, codes.ravel(), idx, names, names)

    @classmethod
    def from_map(cls, tmap: TemplateMap, descriptors: DescriptorSet, weights: np.ndarray | None = None,
                 what: str = "descriptor set") -> Groups:
        """Resolve a template map against ``descriptors``: every image it names must have a descriptor."""
        rows = descriptors.index_of(tmap.images, source=f"{tmap.name} (templates of the {what})")
        tids, codes = np.unique(tmap.templates, return_inverse=True)
        _, media = np.unique(np.stack([tmap.templates, tmap.media]), axis=1, return_inverse=True)
        subjects = template_subjects(tmap, descriptors.labels[rows], tids)
        w = None if weights is None else np.asarray(weights, dtype=np.float64)[rows]
        return cls(rows, codes.ravel(), media.ravel(), tids.astype(str), subjects, w)

