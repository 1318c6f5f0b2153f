"""Build one training set from several descriptor sets (e.g. LFW plus your own pose-varied photos).

Each source gets a name. Image ids become ``<source>/<id>`` and identities ``<source>:<label>``,
so that two sources never merge people by accident (two "John_Smith" folders are two people).
A single source keeps its ids and identities (there is nothing to keep apart), so that combining
one set with ``--landmarks`` just gives it pose.
An identity map merges them where you know better: a CSV with the header
``source,label,identity`` sends the label ``label`` of source ``source`` to the common identity
``identity`` (every source's entries that map to one identity become one person).

The sources must come from the same descriptor model (backbone and dimension): a metric fitted
on a mixture of embedding spaces is meaningless. Flipped descriptors are kept only when every
source has them; landmarks and yaw are kept when any source has them (NaN for the others).
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from facemetric.errors import InputError, bad_file
from facemetric.types import DescriptorSet

MAP_COLUMNS = ("source", "label", "identity")


class DroppedFlipWarning(UserWarning):
    """Some sources have no flipped descriptors, so the combined set keeps none."""


@dataclass(frozen=True)
class Source:
    """A named descriptor set to combine."""

    name: str
    descriptors: DescriptorSet


def read_identity_map(path: str | Path) -> dict[tuple[str, str], str]:
    """``{(source, label): identity}`` from a CSV with the header ``source,label,identity``."""
    path = Path(path)
    if not path.is_file():
        raise bad_file(path, "does not exist", "give a CSV with the header source,label,identity")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        if tuple(header) != MAP_COLUMNS:
            raise bad_file(path, f"has the header {','.join(header) or '(none)'}", "the header must read "
                           "source,label,identity")
        out: dict[tuple[str, str], str] = {}
        for no, row in enumerate(reader, start=2):
            if not any(c.strip() for c in row):
                continue
            if len(row) != 3 or not all(c.strip() for c in row):
                raise bad_file(path, f"line {no} does not hold three non-empty fields", "write source,label,identity")
            key = (row[0].strip(), row[1].strip())
            if key in out and out[key] != row[2].strip():
                raise bad_file(path, f"line {no} maps {key[0]}:{key[1]} a second time, to another identity",
                               "map each label once")
            out[key] = row[2].strip()
    return out


def combine_sources(sources: Sequence[Source], identity_map: dict[tuple[str, str], str] | None = None
                    ) -> DescriptorSet:
    """One training set from ``sources``; see the module docstring."""
    if not sources:
        raise InputError("no descriptor sets to combine; give at least one")
    names = [s.name for s in sources]
    bad = [n for n in names if not n or "/" in n or ":" in n]
    if bad:
        raise InputError(f"source name {bad[0]!r} is empty or holds '/' or ':'; name each source plainly")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"two sources are named {dup!r}; give each source its own name")
    first = sources[0].descriptors
    for s in sources[1:]:
        d = s.descriptors
        if d.dim != first.dim:
            raise InputError(f"source {s.name!r} has {d.dim}-d descriptors but {names[0]!r} has {first.dim}-d; "
                             "combine descriptors of one model")
        a, b = first.provenance.backbone, d.provenance.backbone
        if "unknown" not in (a, b) and a != b:
            raise InputError(f"source {s.name!r} comes from backbone {b!r} but {names[0]!r} from {a!r}; "
                             "combine descriptors of one model")
    mapping = dict(identity_map or {})
    unused = {k for k in mapping if k[0] not in names}
    if unused:
        src, label = sorted(unused)[0]
        raise InputError(f"the identity map names source {src!r}, which is not among {names}")
    labels, ids = [], []
    single = len(sources) == 1
    for s in sources:
        d = s.descriptors
        if (d.labels == "").any():
            raise InputError(f"source {s.name!r} has {int((d.labels == '').sum())} descriptor(s) without an identity; "
                             "a training set needs one per image")
        default = (lambda lab: lab) if single else (lambda lab: f"{s.name}:{lab}")
        labels.append(np.array([mapping.get((s.name, lab), default(lab)) for lab in d.labels.tolist()]))
        ids.append(d.ids.astype(str) if single else np.char.add(f"{s.name}/", d.ids.astype(str)))
    has_flip = [s.descriptors.X_flip is not None for s in sources]
    if any(has_flip) and not all(has_flip):
        missing = [n for n, f in zip(names, has_flip) if not f]
        warnings.warn(f"sources {missing} have no flipped descriptors, so the combined set keeps none",
                      DroppedFlipWarning, stacklevel=2)

    def stacked(attr: str, shape: tuple[int, ...]) -> np.ndarray | None:
        parts = [getattr(s.descriptors, attr) for s in sources]
        if all(p is None for p in parts):
            return None
        return np.concatenate([np.full((len(s.descriptors), *shape), np.nan, np.float32) if p is None else p
                               for s, p in zip(sources, parts)])

    provenance = first.provenance.with_(extra={
        **first.provenance.extra,
        "sources": [{"name": s.name, "images": len(s.descriptors),
                     "identities": int(np.unique(s.descriptors.labels).size)} for s in sources],
        "identity_map_entries": len(mapping),
    })
    return DescriptorSet(
        X=np.concatenate([s.descriptors.X for s in sources]), labels=np.concatenate(labels), ids=np.concatenate(ids),
        provenance=provenance,
        X_flip=np.concatenate([s.descriptors.X_flip for s in sources]) if all(has_flip) else None,
        landmarks=stacked("landmarks", (5, 2)), yaw=stacked("yaw", ()),
    )
