"""IJB-B/C template files: read and write them, so that facemetric runs on IJB's own metadata.

Layouts (space-separated, no header, as in the IJB-B/C release's ``meta/`` folder):

* ``*_face_tid_mid.txt``: ``image_name template_id media_id`` per line, e.g. ``1.jpg 1 69544``;
* ``*_template_pair_label.txt``: ``template_id_1 template_id_2 label`` (1 = same subject);
* ``*_name_5pts_score.txt``: ``image_name`` then 10 landmark coordinates then the detector score,
  which IJB practice uses as the quality weight of the image.

The 1:N lists (``*_1N_gallery_G1.csv``, ``*_1N_probe_mixed.csv``) are CSV with a header that
starts ``TEMPLATE_ID,SUBJECT_ID,FILENAME``; they map images to templates and name the subject.
They carry no media id, so each row is its own media.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from facemetric.errors import InputError, ProtocolError
from facemetric.io.atomic import atomic_open
from facemetric.templates.protocol import TemplateMap, TemplatePairs
from facemetric.types import DescriptorSet


def _lines(path: Path):
    if not path.is_file():
        raise ProtocolError(f"{path}: does not exist; check the template file path")
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield number, line.split()


def _int(token: str, path: Path, number: int, what: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise ProtocolError(f"{path}:{number}: {what} {token!r} is not an integer") from None


def read_face_tid_mid(path: str | Path) -> TemplateMap:
    """A ``*_face_tid_mid.txt`` file as a :class:`TemplateMap` (named by the path)."""
    path = Path(path)
    images, templates, media = [], [], []
    for number, parts in _lines(path):
        if len(parts) != 3:
            raise ProtocolError(f"{path}:{number}: expected 'image_name template_id media_id', got {len(parts)} "
                                f"field(s): {' '.join(parts)[:60]!r}")
        images.append(parts[0])
        templates.append(_int(parts[1], path, number, "template id"))
        media.append(_int(parts[2], path, number, "media id"))
    return TemplateMap(np.array(images, dtype=str), np.array(templates, dtype=np.int64),
                       np.array(media, dtype=np.int64), name=str(path))


def read_ijb_1n(path: str | Path) -> TemplateMap:
    """An IJB 1:N list (CSV with ``TEMPLATE_ID,SUBJECT_ID,FILENAME`` columns) as a map with subjects."""
    path = Path(path)
    if not path.is_file():
        raise ProtocolError(f"{path}: does not exist; check the template file path")
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().upper() for h in next(reader, [])]
        need = ("TEMPLATE_ID", "SUBJECT_ID", "FILENAME")
        if not set(need) <= set(header):
            raise ProtocolError(f"{path}: an IJB 1:N list needs the columns {', '.join(need)}; the header has "
                                f"{', '.join(header[:6]) or 'nothing'}")
        cols = [header.index(n) for n in need]
        templates, subjects, images = [], [], []
        for number, row in enumerate(reader, 2):
            if not row:
                continue
            if len(row) <= max(cols):
                raise ProtocolError(f"{path}:{number}: {len(row)} field(s), fewer than the header's")
            templates.append(_int(row[cols[0]], path, number, "TEMPLATE_ID"))
            subjects.append(row[cols[1]].strip())
            images.append(row[cols[2]].strip())
    return TemplateMap(np.array(images, dtype=str), np.array(templates, dtype=np.int64),
                       np.arange(len(images), dtype=np.int64), np.array(subjects, dtype=str), name=str(path))


def load_template_map(path: str | Path) -> TemplateMap:
    """``*_face_tid_mid.txt`` or an IJB 1:N ``.csv`` list, told apart by the extension."""
    path = Path(path)
    return read_ijb_1n(path) if path.suffix.lower() == ".csv" else read_face_tid_mid(path)


def read_template_pair_label(path: str | Path) -> TemplatePairs:
    """A ``*_template_pair_label.txt`` file (two columns only: pairs without labels)."""
    path = Path(path)
    t1, t2, labels = [], [], []
    n_fields = None
    for number, parts in _lines(path):
        if len(parts) not in (2, 3) or (n_fields is not None and len(parts) != n_fields):
            raise ProtocolError(f"{path}:{number}: expected 'template_id_1 template_id_2 label', got "
                                f"{' '.join(parts)[:60]!r}")
        n_fields = len(parts)
        t1.append(_int(parts[0], path, number, "template id"))
        t2.append(_int(parts[1], path, number, "template id"))
        if len(parts) == 3:
            label = _int(parts[2], path, number, "label")
            if label not in (0, 1):
                raise ProtocolError(f"{path}:{number}: label {label} must be 1 (same subject) or 0 (different)")
            labels.append(label)
    return TemplatePairs(np.array(t1, dtype=np.int64), np.array(t2, dtype=np.int64),
                         np.array(labels, dtype=np.int8) if n_fields == 3 else None, name=str(path))


def read_face_scores(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(image names, scores)`` of a ``*_name_5pts_score.txt`` file: the last field of each line."""
    path = Path(path)
    names, scores = [], []
    for number, parts in _lines(path):
        if len(parts) < 2:
            raise ProtocolError(f"{path}:{number}: expected 'image_name ... score', got {' '.join(parts)[:60]!r}")
        try:
            scores.append(float(parts[-1]))
        except ValueError:
            raise ProtocolError(f"{path}:{number}: score {parts[-1]!r} is not a number") from None
        names.append(parts[0])
    return np.array(names, dtype=str), np.array(scores, dtype=np.float64)


def quality_weights(path: str | Path, descriptors: DescriptorSet, what: str) -> np.ndarray:
    """One weight per descriptor of ``descriptors`` from a ``*_name_5pts_score.txt`` file, matched by image id."""
    names, scores = read_face_scores(path)
    order = np.argsort(names)
    pos = np.clip(np.searchsorted(names[order], descriptors.ids), 0, max(names.size - 1, 0))
    found = names[order][pos] == descriptors.ids
    if not found.all():
        raise InputError(f"{path}: has no quality score for {int((~found).sum())} image(s) of the {what}, e.g. "
                         f"{str(descriptors.ids[~found][0])!r}; give a score for every image")
    return scores[order][pos]


def _check_token(value: str, path: Path) -> str:
    if not value or any(c.isspace() for c in value):
        raise ProtocolError(f"{path}: image id {value!r} is empty or holds whitespace, which the IJB layout cannot "
                            "store; rename the images")
    return value


def write_face_tid_mid(tmap: TemplateMap, path: str | Path) -> Path:
    """Write ``tmap`` as ``image_name template_id media_id`` lines, atomically."""
    path = Path(path)
    with atomic_open(path) as fh:
        for image, t, m in zip(tmap.images.tolist(), tmap.templates.tolist(), tmap.media.tolist()):
            fh.write(f"{_check_token(image, path)} {t} {m}\n")
    return path


def write_template_pair_label(pairs: TemplatePairs, path: str | Path) -> Path:
    """Write ``pairs`` as ``t1 t2 label`` lines (``t1 t2`` when the labels are hidden), atomically."""
    path = Path(path)
    with atomic_open(path) as fh:
        if pairs.labels is None:
            for a, b in zip(pairs.t1.tolist(), pairs.t2.tolist()):
                fh.write(f"{a} {b}\n")
        else:
            for a, b, y in zip(pairs.t1.tolist(), pairs.t2.tolist(), pairs.labels.tolist()):
                fh.write(f"{a} {b} {y}\n")
    return path
