"""The identity of an image from its id (path relative to the dataset root).

Known layouts are recognised image by image (:func:`layout_identity`):

* **CFP**: ``Data/Images/<id>/{frontal,profile}/NN.jpg`` -> ``<id>`` (at any depth);
* **LFW**: ``<Name>/<Name>_NNNN.jpg`` (a folder whose name the file name repeats) -> ``<Name>``;
* **flat numbered files**: ``Name_Surname_3.jpg`` with no folder (CPLFW, CALFW) -> ``Name_Surname``.

Any other id with folders takes a folder of its path: the one at ``depth`` when given, else
the first folder level that is not the same for every image of the set (so that
``images/<id>/x.jpg`` gives ``<id>``, not ``images``; :func:`identities_from_ids`).

:func:`identities_of` gives one identity per descriptor: its label, or what its image id implies.
:func:`pair_identities` gives the identities of both sides of every pair of a protocol.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from facemetric.errors import InputError
from facemetric.types import DescriptorSet, PairProtocol

_NUMBERED = re.compile(r"^(?P<name>.+?)_\d+$")
_CFP = re.compile(r"(?:^|/)Data/Images/(?P<id>[^/]+)/(?:frontal|profile)/[^/]+$")

#: The layouts recognised by :func:`layout_identity`, by name.
LAYOUTS = ("cfp", "lfw", "numbered-files")


def _numbered_name(file_name: str) -> str:
    """``Aaron_Peirsol_1.jpg`` -> ``Aaron_Peirsol``; "" for a name without a trailing number."""
    match = _NUMBERED.match(file_name.rsplit(".", 1)[0])
    return match.group("name") if match else ""


def layout_identity(image_id: str) -> tuple[str, str] | None:
    """``(identity, layout)`` when ``image_id`` follows a known layout (see the module doc), else None."""
    match = _CFP.search(image_id)
    if match:
        return match.group("id"), "cfp"
    parts = image_id.split("/")
    if len(parts) == 1:
        name = _numbered_name(parts[0])
        return (name, "numbered-files") if name else None
    folder = parts[-2]
    if folder and _numbered_name(parts[-1]) == folder:
        return folder, "lfw"
    return None


def identity_from_id(image_id: str, depth: int | None = None) -> str:
    """The identity one image id implies, or "" when it implies none.

    With ``depth``: the folder at that depth (0 = first), or "" when the path is shorter; a file
    with no folder gives its name less a trailing ``_<number>``. Without: the known layout
    (:func:`layout_identity`), else the first folder.
    """
    parts = image_id.split("/")
    folders = parts[:-1]
    if not folders:
        return _numbered_name(parts[-1])
    if depth is None:
        known = layout_identity(image_id)
        return known[0] if known else folders[0]
    return folders[depth] if depth < len(folders) else ""


def varying_depth(ids: Any) -> int:
    """The first folder level whose name is not the same for every id (0 when all differ at the top).

    Levels that every id shares (``images/``, ``Data/Images/``) are skipped, as long as every id
    has a folder below them.
    """
    split = [str(i).split("/")[:-1] for i in np.asarray(ids).astype(str)]
    split = [s for s in split if s]
    if not split:
        return 0
    shortest = min(len(s) for s in split)
    for depth in range(shortest):
        if len({s[depth] for s in split}) > 1:
            return depth
    return shortest - 1


def identities_from_ids(ids: Any, depth: int | None = None) -> tuple[np.ndarray, str]:
    """One identity per image id ("" where none is implied) and how they were found.

    With ``depth``, every id takes its folder at that depth. Without, ids of a known layout take
    its identity and the others the folder at :func:`varying_depth` of those others.
    The second value names the rule: ``"cfp"``, ``"lfw"``, ``"folder depth 2"``, ``"cfp + folder depth 0"``...
    """
    ids = np.asarray(ids).astype(str)
    if depth is not None:
        return np.array([identity_from_id(i, depth) for i in ids.tolist()], dtype=str), f"folder depth {depth}"
    out = np.empty(ids.size, dtype=object)
    layouts: set[str] = set()
    rest: list[int] = []
    for k, image_id in enumerate(ids.tolist()):
        known = layout_identity(image_id)
        if known is None:
            rest.append(k)
        else:
            out[k] = known[0]
            layouts.add(known[1])
    rules = sorted(layouts)
    if rest:
        d = varying_depth(ids[rest])
        for k in rest:
            out[k] = identity_from_id(ids[k], d)
        rules.append(f"folder depth {d}")
    return out.astype(str) if ids.size else np.array([], dtype=str), " + ".join(rules) or "none"


def identities_of(descriptors: DescriptorSet, what: str = "descriptor set") -> np.ndarray:
    """One identity name per row.

    Uses ``descriptors.labels`` where they are set; where labels are empty (""), uses what the
    image id implies (:func:`identities_from_ids`: a known layout, else the first folder level
    that differs between images; ``Name_3.jpg`` with no folder -> ``Name``). Raises when neither
    gives an identity for every row.
    """
    labels = descriptors.labels.astype(str)
    if labels.size and (labels != "").all():
        return labels
    from_ids, _ = identities_from_ids(descriptors.ids)
    out = np.where(labels != "", labels, from_ids)
    missing = np.flatnonzero(out == "")
    if missing.size:
        raise InputError(
            f"{what}: {missing.size} descriptor(s) have neither an identity label nor a folder in their image id "
            f"(e.g. {str(descriptors.ids[missing[0]])!r}); give labels, or ids like 'Name/Name_0001.jpg'"
        )
    return out


def with_identities(descriptors: DescriptorSet, what: str = "descriptor set") -> DescriptorSet:
    """The same set (flips, landmarks and yaw included) with ``labels`` filled from :func:`identities_of`."""
    labels = identities_of(descriptors, what)
    if labels is descriptors.labels:
        return descriptors
    return descriptors.with_labels(labels)


def image_identities(protocol: PairProtocol, descriptors: DescriptorSet | None = None) -> np.ndarray:
    """The identity of each image of ``protocol`` (K,), "" where unknown.

    The protocol's own identities come first (LFW names, CFP folders, CPLFW file names); then the
    descriptors' identities (labels, or their image ids); then what the image id implies.
    """
    out = np.full(protocol.images.size, "", dtype=object)
    if protocol.identities is not None:
        out[:] = protocol.identities
    todo = out == ""
    if descriptors is not None and todo.any():
        rows, found = descriptors.find(protocol.images)
        try:
            known = identities_of(descriptors)
        except InputError:
            known = descriptors.labels.astype(str)
        fill = todo & found
        out[fill] = known[rows[fill]]
        todo = out == ""
    if todo.any():
        out[todo] = identities_from_ids(protocol.images[todo])[0]
    return out.astype(str)


def pair_identities(protocol: PairProtocol, descriptors: DescriptorSet | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(id_a, id_b)``: the identities of both sides of every pair (see :func:`image_identities`)."""
    per_image = image_identities(protocol, descriptors)
    return per_image[protocol.pairs[:, 0]], per_image[protocol.pairs[:, 1]]


def disagreeing(stated: Any, given: Any) -> np.ndarray:
    """Per image: do two namings of the same images disagree?

    An image disagrees when another image of its ``stated`` identity has another ``given`` one, or
    the other way round, so that a consistent renaming (``Aaron`` -> ``id0001``) agrees.
    """
    stated = np.asarray(stated).astype(str)
    given = np.asarray(given).astype(str)
    bad = np.zeros(stated.size, dtype=bool)
    if not stated.size:
        return bad
    for a, b in ((stated, given), (given, stated)):
        _, code_a = np.unique(a, return_inverse=True)
        _, code_b = np.unique(b, return_inverse=True)
        width = int(code_b.max()) + 1
        combos = np.unique(code_a.astype(np.int64) * width + code_b)
        per_a = np.bincount(combos // width, minlength=int(code_a.max()) + 1)
        bad |= per_a[code_a] > 1  # a value of `a` that meets more than one value of `b`
    return bad


def label_disagreements(protocol: PairProtocol, descriptors: DescriptorSet) -> tuple[int, int, str]:
    """How the descriptors' identities disagree with the identities the protocol states
    (:func:`disagreeing`): ``(n_disagreeing_images, n_compared, example)``; ``(0, 0, "")`` when the
    protocol states none."""
    if protocol.identities is None:
        return 0, 0, ""
    rows, found = descriptors.find(protocol.images)
    stated = protocol.identities.astype(str)
    keep = found & (stated != "")
    if not keep.any():
        return 0, 0, ""
    try:
        labels = identities_of(descriptors)[rows[keep]]
    except InputError:
        labels = descriptors.labels.astype(str)[rows[keep]]
    stated = stated[keep]
    bad = disagreeing(stated, labels)
    example = ""
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        example = (f"{str(protocol.images[keep][k])!r} is labelled {str(labels[k])!r}, the protocol says "
                   f"{str(stated[k])!r}")
    return int(bad.sum()), int(keep.sum()), example


def check_labels_agree(protocol: PairProtocol, descriptors: DescriptorSet, what: str = "descriptor labels") -> None:
    """Raise when the descriptors' identities disagree with the identities the protocol states: training
    on them would not keep the protocol's people out (e.g. every image labelled ``Data``)."""
    from facemetric.errors import ProtocolError

    n_bad, n, example = label_disagreements(protocol, descriptors)
    if n_bad:
        raise ProtocolError(
            f"{protocol.name}: the {what} disagree with the identities the protocol states for {n_bad} of {n} "
            f"images ({example}); fix the labels (facemetric extract takes them from the folder layout, "
            "--label-depth N sets the folder) so that training leaves the test identities out"
        )
