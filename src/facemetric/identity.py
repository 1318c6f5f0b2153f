"""The identity of an image from its id (path relative to the dataset root).

Two conventions cover the public face datasets:

* a folder per person: ``Name/Name_0001.jpg`` (LFW, CASIA-WebFace, VGGFace2; CFP one level
  deeper: ``Data/Images/001/frontal/01.jpg``);
* a flat folder whose file names end in an image number: ``Name_Surname_3.jpg`` (CPLFW, CALFW).

:func:`identities_of` gives one identity per descriptor: its label, or what its image id implies.
"""

from __future__ import annotations

import re

import numpy as np

from facemetric.errors import InputError
from facemetric.types import DescriptorSet

_NUMBERED = re.compile(r"^(?P<name>.+?)_\d+$")


def _numbered_name(file_name: str) -> str:
    """``Aaron_Peirsol_1.jpg`` -> ``Aaron_Peirsol``; "" for a name without a trailing number."""
    match = _NUMBERED.match(file_name.rsplit(".", 1)[0])
    return match.group("name") if match else ""


def identity_from_id(image_id: str, depth: int | None = None) -> str:
    """The identity an image id implies, or "" when it implies none.

    With a folder: the folder at ``depth`` (0 = first), or the whole parent folder when ``depth``
    is None. Without a folder: the file name less a trailing ``_<number>``.
    """
    parts = image_id.split("/")
    folders = parts[:-1]
    if not folders:
        return _numbered_name(parts[-1])
    if depth is None:
        return "/".join(folders)
    return folders[depth] if depth < len(folders) else ""


def identities_of(descriptors: DescriptorSet, what: str = "descriptor set") -> np.ndarray:
    """One identity name per row.

    Uses ``descriptors.labels`` where they are all set; where labels are empty (""), uses the
    folder of the image id (``Name/Name_0001.jpg`` -> ``Name``), or for a file with no folder its
    name less a trailing number (``Name_3.jpg`` -> ``Name``, as in CPLFW). Raises when neither gives
    an identity for every row.
    """
    labels = descriptors.labels.astype(str)
    if labels.size and (labels != "").all():
        return labels
    folders = np.array([identity_from_id(i) for i in descriptors.ids.astype(str)])
    out = np.where(labels != "", labels, folders)
    missing = np.flatnonzero(out == "")
    if missing.size:
        raise InputError(
            f"{what}: {missing.size} descriptor(s) have neither an identity label nor a folder in their image id "
            f"(e.g. {str(descriptors.ids[missing[0]])!r}); give labels, or ids like 'Name/Name_0001.jpg'"
        )
    return out


def with_identities(descriptors: DescriptorSet, what: str = "descriptor set") -> DescriptorSet:
    """The same set with ``labels`` filled from :func:`identities_of`."""
    labels = identities_of(descriptors, what)
    if labels is descriptors.labels:
        return descriptors
    return DescriptorSet(
        X=descriptors.X, labels=labels, ids=descriptors.ids, provenance=descriptors.provenance,
        X_flip=descriptors.X_flip,
    )
