"""Protocol guard: warn when an evaluation would leak identities.

Two leaks are checked: training identities that appear in the test pairs, and identities
shared by several folds of one protocol (then the threshold chosen on the other folds has
seen the held-out people). Both are checked only when the identities are consistent with the
labels: when a mismatched pair joins two images of one identity, the identities themselves are
wrong (e.g. every image labelled with the dataset's top folder), and that is what is reported.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from facemetric.identity import identities_from_ids, image_identities
from facemetric.types import DescriptorSet, PairProtocol


class ProtocolWarning(UserWarning):
    """An evaluation is valid to run but its figures may be optimistic."""


def identities_from_paths(images: Any) -> np.ndarray:
    """Identity of each image id from its path (:func:`facemetric.identity.identities_from_ids`: a known
    layout such as LFW's ``Name/Name_0001.jpg`` or CFP's ``Data/Images/<id>/...``, else a folder, or for a
    flat file its name less a trailing number); "" if none applies."""
    return identities_from_ids(images)[0]


def protocol_identities(protocol: PairProtocol, descriptors: DescriptorSet | None = None) -> np.ndarray:
    """Identity of each protocol image: as the protocol states it, else from the descriptors, else the path
    (:func:`facemetric.identity.image_identities`; images without a descriptor are allowed)."""
    return image_identities(protocol, descriptors)


def contradicting_pairs(protocol: PairProtocol, identities: np.ndarray) -> np.ndarray:
    """Mismatched pairs whose two images have the same (known) identity."""
    if protocol.labels is None:
        return np.array([], dtype=np.int64)
    ia, ib = identities[protocol.pairs[:, 0]], identities[protocol.pairs[:, 1]]
    return np.flatnonzero((protocol.labels == 0) & (ia == ib) & (ia != ""))


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
    wrong = contradicting_pairs(protocol, identities)
    if wrong.size:
        k = int(wrong[0])
        messages.append(
            f"{protocol.name}: the identities do not fit the labels: {wrong.size} different-person pairs join "
            f"two images of one identity (e.g. {str(protocol.a[k])!r} and {str(protocol.b[k])!r}, both "
            f"{str(identities[protocol.pairs[k, 0]])!r}); check the descriptor labels (facemetric info), "
            "the leak checks are skipped"
        )
        if warn:
            warnings.warn(messages[0], ProtocolWarning, stacklevel=2)
        return messages
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
