"""Build template protocols and 1:N splits from any labelled descriptor set (e.g. LFW people with several photos).

* :func:`build_template_protocol`: each identity's images, shuffled with ``seed``, are cut into
  templates of ``images_per_template`` images (each image its own media, as for still photos);
  genuine pairs are all pairs of templates of one identity, impostor pairs a seeded uniform
  sample of templates of different identities. Written in the IJB-B/C layout by
  :mod:`facemetric.templates.ijb`.
* :func:`split_gallery_probes`: a seeded share of the identities is left out of the gallery
  (their images become non-mated probes, for open-set search); the others enrol a share of their
  images in the gallery and search with the rest. Identities with a single image enrol it as a
  distractor.
"""

from __future__ import annotations

import numpy as np

from facemetric.errors import ConfigError, InputError
from facemetric.identity import identity_from_id
from facemetric.templates.protocol import TemplateMap, TemplatePairs
from facemetric.types import DescriptorSet

MAX_ENUMERATED = 20_000_000  # impostor template pairs enumerated exactly below this, sampled above


def identities(descriptors: DescriptorSet, what: str = "descriptor set") -> np.ndarray:
    """Identity per row: the label, else the folder of the image id; raise when neither exists."""
    labels = descriptors.labels.astype(str)
    missing = labels == ""
    if missing.any():
        labels = labels.copy()
        labels[missing] = [identity_from_id(i) for i in descriptors.ids[missing].tolist()]
    if (labels == "").any():
        k = int(np.flatnonzero(labels == "")[0])
        raise InputError(f"{what}: image {descriptors.ids[k]!r} has no identity label and no folder in its id; "
                         "give labels or ids like 'Name/Name_0001.jpg'")
    return labels


def _check_int(name: str, value: int, low: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
        raise ConfigError(f"The {name!r} parameter must be an int >= {low}. Got {value!r} instead.")
    return int(value)


def build_template_protocol(
    descriptors: DescriptorSet, *, images_per_template: int = 3, n_impostors: int = 1_000_000, seed: int = 0,
    name: str = "templates",
) -> tuple[TemplateMap, TemplatePairs]:
    """(template map, labelled template pairs) from the identities of ``descriptors`` (module docstring)."""
    k = _check_int("images_per_template", images_per_template, 1)
    n_impostors = _check_int("n_impostors", n_impostors, 0)
    labels = identities(descriptors)
    rng = np.random.default_rng(seed)
    codes = np.unique(labels, return_inverse=True)[1]
    rows_of = np.split(np.argsort(codes, kind="stable"), np.cumsum(np.bincount(codes))[:-1])
    images, template_ids, owner = [], [], []
    next_id = 1
    for identity, rows in enumerate(rows_of):
        rows = rng.permutation(rows)
        for start in range(0, rows.size, k):
            chunk = rows[start:start + k]
            images.append(chunk)
            template_ids.append(np.full(chunk.size, next_id))
            owner.append(identity)
            next_id += 1
    owner = np.asarray(owner)
    same_a, same_b = [], []
    for identity in np.unique(owner):
        t = np.flatnonzero(owner == identity) + 1
        if t.size > 1:
            a, b = np.triu_indices(t.size, 1)
            same_a.append(t[a])
            same_b.append(t[b])
    if not same_a:
        raise InputError(f"descriptors: no identity has more than {k} image(s), so there is no genuine template "
                         "pair; lower --images-per-template or add identities with several images")
    ga, gb = np.concatenate(same_a), np.concatenate(same_b)
    ia, ib = _impostor_pairs(owner, n_impostors, rng)
    rows = np.concatenate(images)
    tmap = TemplateMap(descriptors.ids[rows], np.concatenate(template_ids), np.arange(rows.size) + 1, name=name)
    t1 = np.concatenate([ga, ia])
    t2 = np.concatenate([gb, ib])
    y = np.concatenate([np.ones(ga.size, np.int8), np.zeros(ia.size, np.int8)])
    order = np.lexsort((t2, t1))
    return tmap, TemplatePairs(t1[order], t2[order], y[order], name=name)


def _impostor_pairs(owner: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct template pairs (ids from 1) of different identities, uniformly drawn (all if fewer)."""
    T = owner.size
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if T * (T - 1) // 2 <= MAX_ENUMERATED:
        a, b = np.triu_indices(T, 1)
        keep = owner[a] != owner[b]
        a, b = a[keep], b[keep]
        if a.size > n:
            pick = np.sort(rng.choice(a.size, n, replace=False))
            a, b = a[pick], b[pick]
        return a + 1, b + 1
    found = np.empty(0, np.int64)
    while found.size < n:
        a = rng.integers(0, T, 2 * n)
        b = rng.integers(0, T, 2 * n)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        keep = owner[lo] != owner[hi]
        found = np.unique(np.concatenate([found, lo[keep] * T + hi[keep]]))
    found = rng.permutation(found)[:n]
    return found // T + 1, found % T + 1


def split_gallery_probes(
    descriptors: DescriptorSet, *, gallery_fraction: float = 0.5, non_mated_fraction: float = 0.2, seed: int = 0,
) -> tuple[DescriptorSet, DescriptorSet]:
    """``(gallery, probes)`` for open-set 1:N search (see the module docstring); both keep the provenance."""
    for key, value in (("gallery_fraction", gallery_fraction), ("non_mated_fraction", non_mated_fraction)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value < 1.0:
            raise ConfigError(f"The {key!r} parameter must be a float in [0, 1). Got {value!r} instead.")
    labels = identities(descriptors)
    ds = DescriptorSet(X=descriptors.X, labels=labels, ids=descriptors.ids, provenance=descriptors.provenance,
                       X_flip=descriptors.X_flip)
    rng = np.random.default_rng(seed)
    names, codes = np.unique(labels, return_inverse=True)
    left_out = rng.random(names.size) < non_mated_fraction
    in_gallery = np.zeros(len(ds), bool)
    for identity in np.flatnonzero(~left_out):
        rows = rng.permutation(np.flatnonzero(codes == identity))
        n_gallery = rows.size if rows.size == 1 else min(rows.size - 1, max(1, round(gallery_fraction * rows.size)))
        in_gallery[rows[:n_gallery]] = True
    if not in_gallery.any():
        raise InputError("the split left the gallery empty; lower non_mated_fraction")
    if in_gallery.all():
        raise InputError("the split left no probes: every identity has a single image; give identities with "
                         "several images or raise non_mated_fraction")
    return ds.subset(np.flatnonzero(in_gallery)), ds.subset(np.flatnonzero(~in_gallery))
