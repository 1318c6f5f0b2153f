"""Identity labels of a descriptor set: its labels, or the folder name of each image id."""

from __future__ import annotations

import numpy as np

from facemetric.errors import InputError
from facemetric.identity import identity_from_id
from facemetric.types import DescriptorSet


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
            f"(e.g. {descriptors.ids[missing[0]]!r}); give labels, or ids like 'Name/Name_0001.jpg'"
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
