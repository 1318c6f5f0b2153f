"""Template protocols: which images form which template (and media), and labelled template pairs.

A *template* is a set of descriptors of one subject from one enrolment: the still images and
video frames of an IJB-B/C template, or the photos of one LFW person. A *media* groups the
images of one photo or one video inside a template; IJB practice pools by media first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facemetric.errors import InputError, ProtocolError


def _ints(values, what: str, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ProtocolError(f"{name}: {what} must be one-dimensional; got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ProtocolError(f"{name}: {what} must be integers; got {arr.dtype}")
    return arr.astype(np.int64)


@dataclass(frozen=True, eq=False)
class TemplateMap:
    """One row per (image, template, media) triple, as in IJB's ``*_face_tid_mid.txt``.

    ``images`` (R,) are image ids (matched to ``DescriptorSet.ids``), ``templates`` (R,) and
    ``media`` (R,) integer ids. An image may belong to several templates. ``subjects`` (R,)
    optionally names the subject of each row (IJB's 1:N files carry it); otherwise subjects come
    from the descriptors' identity labels.
    """

    images: np.ndarray
    templates: np.ndarray
    media: np.ndarray
    subjects: np.ndarray | None = None
    name: str = "templates"

    def __post_init__(self) -> None:
        images = np.asarray(self.images).astype(str)
        templates = _ints(self.templates, "template ids", self.name)
        media = _ints(self.media, "media ids", self.name)
        if images.ndim != 1 or not images.size == templates.size == media.size:
            raise ProtocolError(f"{self.name}: {images.size} images but {templates.size} template ids and "
                                f"{media.size} media ids; give one of each per row")
        if images.size == 0:
            raise ProtocolError(f"{self.name}: the template file lists no images; check the file")
        subjects = None
        if self.subjects is not None:
            subjects = np.asarray(self.subjects).astype(str)
            if subjects.shape != images.shape:
                raise ProtocolError(f"{self.name}: {images.size} rows but {subjects.size} subjects")
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "templates", templates)
        object.__setattr__(self, "media", media)
        object.__setattr__(self, "subjects", subjects)

    def __len__(self) -> int:
        return int(self.images.size)

    @property
    def template_ids(self) -> np.ndarray:
        """The distinct template ids, sorted."""
        return np.unique(self.templates)

    def restricted_to(self, template_ids: np.ndarray) -> TemplateMap:
        """The rows of the given templates; raise naming a template that has no image here."""
        template_ids = np.unique(np.asarray(template_ids, dtype=np.int64))
        missing = np.setdiff1d(template_ids, self.templates)
        if missing.size:
            raise ProtocolError(
                f"{self.name}: template {int(missing[0])} has no images ({missing.size} such template(s)); "
                "every template of the pairs must have at least one image in the template file"
            )
        keep = np.isin(self.templates, template_ids)
        return TemplateMap(self.images[keep], self.templates[keep], self.media[keep],
                           None if self.subjects is None else self.subjects[keep], self.name)


@dataclass(frozen=True, eq=False)
class TemplatePairs:
    """Template pairs ``(t1[k], t2[k])`` with labels (1 = same subject), as IJB's ``*_template_pair_label.txt``."""

    t1: np.ndarray
    t2: np.ndarray
    labels: np.ndarray | None = None
    name: str = "template pairs"

    def __post_init__(self) -> None:
        t1 = _ints(self.t1, "first template ids", self.name)
        t2 = _ints(self.t2, "second template ids", self.name)
        if t1.shape != t2.shape:
            raise ProtocolError(f"{self.name}: {t1.size} first but {t2.size} second templates")
        if t1.size == 0:
            raise ProtocolError(f"{self.name}: the pair file has no pairs; check the file")
        labels = None
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.shape != t1.shape or not np.isin(labels, (0, 1)).all():
                raise ProtocolError(f"{self.name}: labels must be {t1.size} values of 0 (different) or 1 (same)")
            labels = labels.astype(np.int8)
        object.__setattr__(self, "t1", t1)
        object.__setattr__(self, "t2", t2)
        object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return int(self.t1.size)


def template_subjects(tmap: TemplateMap, row_labels: np.ndarray, template_ids: np.ndarray) -> np.ndarray:
    """The subject of each template of ``template_ids``: ``tmap.subjects`` or the labels of its images.

    ``row_labels`` (R,) are the identity labels of the map's rows ("" = unknown). Raises when one
    template mixes two subjects.
    """
    labels = tmap.subjects if tmap.subjects is not None else np.asarray(row_labels).astype(str)
    codes = np.searchsorted(template_ids, tmap.templates)
    order = np.lexsort((labels, codes))
    first = np.r_[True, codes[order][1:] != codes[order][:-1]]
    out = labels[order][first]
    mixed = np.flatnonzero((codes[order][1:] == codes[order][:-1]) & (labels[order][1:] != labels[order][:-1]))
    if mixed.size:
        k = order[mixed[0] + 1]
        t = int(tmap.templates[k])
        names = sorted(set(labels[tmap.templates == t].tolist()))
        raise InputError(f"{tmap.name}: template {t} mixes subjects {names[:3]}; a template holds one subject")
    return out
