"""Write a frontal-versus-profile protocol in CFP's layout, so that ``--format cfp-fp`` reads it back.

The layout (:mod:`facemetric.io.protocols.cfp`): ``Protocol/Pair_list_F.txt`` and
``Pair_list_P.txt`` number the frontal and profile images (``1 ../Data/Images/001/frontal/01.jpg``),
and ``Protocol/Split/FP/NN/{same,diff}.txt`` hold one fold each (``i,j``: frontal ``i``, profile
``j``). Only the protocol files are written, no images: the returned descriptor set carries the
CFP-style ids (``Data/Images/<person>/<frontal|profile>/NN.jpg``) and person labels that match them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from facemetric.errors import ProtocolError
from facemetric.io.atomic import write_text_atomic
from facemetric.types import DescriptorSet, PairProtocol


def save_cfp_fp(protocol: PairProtocol, descriptors: DescriptorSet, root: str | Path) -> DescriptorSet:
    """Write ``root/Protocol`` for ``protocol`` (first image frontal, second profile, labels and folds set).

    Returns the descriptors of the protocol's images with CFP-style ids and labels.
    """
    if protocol.labels is None or protocol.folds is None:
        raise ProtocolError(f"{protocol.name}: a CFP layout needs labelled pairs in folds")
    frontal, profile = np.unique(protocol.a), np.unique(protocol.b)
    both = np.intersect1d(frontal, profile)
    if both.size:
        raise ProtocolError(f"{protocol.name}: image {str(both[0])!r} is first in one pair and second in another; "
                            "CFP-FP pairs are (frontal, profile)")
    images = np.concatenate([frontal, profile])
    source = descriptors.subset(descriptors.index_of(images, source=protocol.name))
    people = np.unique(source.labels)
    person = {p: f"{k + 1:03d}" for k, p in enumerate(people)}
    new_ids, counters = [], {}
    for image, label, side in zip(images, source.labels, ["frontal"] * frontal.size + ["profile"] * profile.size):
        k = counters[(label, side)] = counters.get((label, side), 0) + 1
        new_ids.append(f"Data/Images/{person[label]}/{side}/{k:02d}.jpg")
    new_ids = np.array(new_ids)
    index = {old: i for i, old in enumerate(images)}
    protocol_dir = Path(root) / "Protocol"
    for name, rows in (("Pair_list_F.txt", range(frontal.size)), ("Pair_list_P.txt", range(frontal.size, images.size))):
        lines = [f"{n + 1} ../{new_ids[i]}" for n, i in enumerate(rows)]
        write_text_atomic(protocol_dir / name, "\n".join(lines) + "\n")
    fi = np.array([index[a] for a in protocol.a]) + 1
    pj = np.array([index[b] for b in protocol.b]) - frontal.size + 1
    for k, fold in enumerate(np.unique(protocol.folds)):
        in_fold = protocol.folds == fold
        for name, label in (("same.txt", 1), ("diff.txt", 0)):
            sel = in_fold & (protocol.labels == label)
            write_text_atomic(protocol_dir / "Split" / "FP" / f"{k + 1:02d}" / name,
                              "".join(f"{i},{j}\n" for i, j in zip(fi[sel], pj[sel])))
    return replace(source, ids=new_ids, labels=np.array([person[p] for p in source.labels]))
