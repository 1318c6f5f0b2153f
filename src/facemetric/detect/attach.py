"""Give a descriptor set its pose: the 5 landmarks of each image from a landmark file, and their yaw.

``facemetric extract`` stores landmarks and yaw itself. This is for descriptors made
elsewhere (the LFW reference ``.npz``, a contest's files) that come with a landmark list in
one of the formats of :mod:`facemetric.detect.landmarks_file` (whitespace text as
``lfw/landmarks_mtcnn_5pt.txt``, or CSV). When a file lists several faces for one image, the
one with the highest detector score is taken. Images the file does not list get NaN.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from facemetric.detect.landmarks_file import _normalise_id, read_rows
from facemetric.errors import bad_file
from facemetric.io.protocols.yaw import yaw_or_nan
from facemetric.types import DescriptorSet


def landmarks_for(ids: np.ndarray, path: str | Path) -> np.ndarray:
    """(N, 5, 2) landmarks of the images ``ids`` from the landmark file ``path``; NaN where it lists none.

    Raises naming the file when it lists none of the images (ids and file paths must be
    relative to the same root).
    """
    faces = read_rows(path)  # image id -> rows of box (4), score, 10 landmark coordinates
    out = np.full((len(ids), 5, 2), np.nan, dtype=np.float64)
    found = 0
    for i, image_id in enumerate(np.asarray(ids).astype(str)):
        listed = faces.get(_normalise_id(image_id))
        if listed:
            out[i] = max(listed, key=lambda r: r[4])[5:].reshape(5, 2)
            found += 1
    if found == 0 and len(ids):
        example = next(iter(faces))
        raise bad_file(Path(path), f"lists none of the {len(ids)} images (e.g. descriptor id {str(ids[0])!r}, "
                       f"file path {example!r})", "ids and landmark paths must be relative to the same root")
    return out


def with_landmarks(descriptors: DescriptorSet, path: str | Path) -> DescriptorSet:
    """``descriptors`` with ``landmarks`` from the file ``path`` and ``yaw`` estimated from them."""
    points = landmarks_for(descriptors.ids, path)
    extra = {**descriptors.provenance.extra, "landmarks_source": Path(path).name}
    return replace(descriptors, landmarks=points, yaw=yaw_or_nan(points),
                   provenance=descriptors.provenance.with_(extra=extra))
