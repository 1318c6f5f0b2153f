"""Protocol guard: warn when an evaluation would leak identities.

Two leaks are checked: training identities that appear in the test pairs, and identities
shared by several folds of one protocol (then the threshold chosen on the other folds has
seen the held-out people).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from facemetric.identity import identity_from_id
from facemetric.types import DescriptorSet, PairProtocol


class ProtocolWarning(UserWarning):
    """An evaluation is valid to run but its figures may be optimistic."""


def identities_from_paths(images: Any) -> np.ndarray:
    """Identity of each image id: its folder (``Name/Name_0001.jpg`` -> ``Name``), or for a flat file its
    name less a trailing number (``Name_3.jpg`` -> ``Name``, as in CPLFW); "" if neither applies."""
    return np.array([identity_from_id(p) for p in np.asarray(images).astype(str)])


def protocol_identities(protocol: PairProtocol, descriptors: DescriptorSet | None = None) -> np.ndarray:
    """Identity of each protocol image: from the descriptor labels if given, else from the path."""
    if descriptors is None:
        return identities_from_paths(protocol.images)
    return descriptors.labels[descriptors.index_of(protocol.images, source=protocol.name)]


def check_protocol(
    protocol: PairProtocol,
    identities: Any,
    *,
    train_identities: Any = None,
    warn: bool = True,
) -> list[str]:
    """Return (and by default ``warnings.warn``) one message per leak found.

    ``identities`` (K,) gives the identity of each protocol image ("" = unknown, ignored).
    """
    identities = np.asarray(identities).astype(str)
    messages: list[str] = []
    used = np.unique(protocol.pairs)
    test_ids = set(identities[used].tolist()) - {""}
    if train_identities is not None:
        train = set(np.asarray(train_identities).astype(str).tolist()) - {""}
        shared = sorted(test_ids & train)
        if shared:
            messages.append(
                f"{protocol.name}: {len(shared)} of {len(test_ids)} test identities were also used for "
                f"training (e.g. {str(shared[0])!r}); figures will be optimistic. Fit on identities outside the protocol"
            )
    if protocol.folds is not None:
        per_image_fold = np.concatenate([protocol.folds, protocol.folds])
        per_image = np.concatenate([protocol.pairs[:, 0], protocol.pairs[:, 1]])
        ident = identities[per_image]
        known = ident != ""
        pairs_ = np.unique(np.stack([ident[known], per_image_fold[known].astype(str)], axis=1), axis=0)
        names, counts = (
            np.unique(pairs_[:, 0], return_counts=True) if pairs_.size else (np.array([]), np.array([]))
        )
        multi = names[counts > 1]
        if multi.size:
            messages.append(
                f"{protocol.name}: {multi.size} identities appear in more than one fold (e.g. {str(multi[0])!r}); "
                "k-fold thresholds are chosen on folds that saw the held-out people"
            )
    if warn:
        for msg in messages:
            warnings.warn(msg, ProtocolWarning, stacklevel=2)
    return messages
