"""The plain data that flows between stages: descriptors, pair protocols and their provenance.

Every stage of facemetric takes and returns these frozen dataclasses (or plain arrays).
Construction validates shapes, dtypes and values, so a stage never receives a broken set.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from facemetric.errors import InputError, ProtocolError

FLIP_MODES = ("none", "sum", "concat")


@dataclass(frozen=True)
class Provenance:
    """Where descriptors came from. Travels with them so that a model can refuse foreign ones.

    ``normalization`` is "none" or "l2"; ``flip_fusion`` is one of ``FLIP_MODES``.
    ``extra`` holds anything else worth recording (model hash, landmark source, seed...).
    """

    backbone: str = "unknown"
    alignment: str = "unknown"
    color_order: str = "unknown"
    normalization: str = "none"
    flip_fusion: str = "none"
    detector: str = "unknown"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in known}
        extra = dict(kwargs.pop("extra", {}) or {})
        extra.update({k: v for k, v in data.items() if k not in known})
        return cls(**kwargs, extra=extra)

    def with_(self, **changes: Any) -> Provenance:
        return replace(self, **changes)

    def same_backbone_as(self, other: Provenance) -> bool | None:
        """Whether two sets come from the same descriptor model, judged by what they record: the
        model's content hash when both have one, else the backbone name; None when either is unknown."""
        ha, hb = self.extra.get("model_hash"), other.extra.get("model_hash")
        if ha and hb:
            return ha == hb
        if "unknown" in (self.backbone, other.backbone):
            return None
        return self.backbone == other.backbone


def _as_str_array(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"{what} must be one-dimensional; got shape {arr.shape}")
    return arr.astype(str)


def check_matrix(X: Any, what: str = "descriptors") -> np.ndarray:
    """Return ``X`` as a C-contiguous float32 (N, D) matrix, or raise on bad shape or non-finite values."""
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise InputError(f"{what} must be a 2-D (n_samples, dim) array; got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"{what} must be numeric; got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if arr.size and not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        raise InputError(
            f"{what} has {bad.size} row(s) with NaN or inf values (first at row {bad[0]}); "
            "re-extract those images or drop them"
        )
    return arr


def _pose_array(values: Any, shape: tuple[int, ...], what: str) -> np.ndarray | None:
    """``values`` as float32 of ``shape``, or None; NaN marks an unknown row, inf is refused."""
    if values is None:
        return None
    arr = np.asarray(values)
    if arr.shape != shape or not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"{what} must be a numeric array of shape {shape}, one per descriptor; got "
                         f"{arr.dtype} of shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if np.isinf(arr).any():
        raise InputError(f"{what} hold inf values; use NaN for an image whose {what} are unknown")
    return arr


@dataclass(frozen=True, eq=False)
class DescriptorSet:
    """N face descriptors with one identity label and one image id per row.

    ``X`` is (N, D) float32. ``X_flip`` optionally holds the descriptors of the
    horizontally flipped crops, same shape. ``ids`` are unique image ids, normally the
    image path relative to the dataset root (``Name/Name_0001.jpg``). ``labels`` are
    identity names as strings; "" means unknown.

    Pose travels with the descriptors when it is known: ``landmarks`` (N, 5, 2) float32 holds
    the five points each face was aligned from (left eye, right eye, nose, left and right mouth
    corner, in pixels of the source image), ``yaw`` (N,) float32 the head yaw in degrees
    estimated from them (:func:`facemetric.io.protocols.yaw.estimate_yaw`; 0 is frontal). Either is
    None when unknown for the whole set (e.g. the LFW reference ``.npz``), and a row is NaN
    where it is unknown for that image.
    """

    X: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    provenance: Provenance = field(default_factory=Provenance)
    X_flip: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    yaw: np.ndarray | None = None

    def __post_init__(self) -> None:
        X = check_matrix(self.X)
        labels = _as_str_array(self.labels, "labels")
        ids = _as_str_array(self.ids, "ids")
        n = X.shape[0]
        if labels.shape[0] != n or ids.shape[0] != n:
            raise InputError(
                f"descriptor set has {n} rows but {labels.shape[0]} labels and {ids.shape[0]} ids; "
                "give one label and one id per row"
            )
        uniq, counts = np.unique(ids, return_counts=True)
        if uniq.size != n:
            dup = uniq[counts > 1]
            raise InputError(
                f"descriptor set has {dup.size} duplicate image id(s), e.g. {str(dup[0])!r}; ids must be unique"
            )
        X_flip = None
        if self.X_flip is not None:
            X_flip = check_matrix(self.X_flip, "flipped descriptors")
            if X_flip.shape != X.shape:
                raise InputError(
                    f"flipped descriptors have shape {X_flip.shape} but descriptors have {X.shape}"
                )
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "X_flip", X_flip)
        object.__setattr__(self, "landmarks", _pose_array(self.landmarks, (n, 5, 2), "landmarks"))
        object.__setattr__(self, "yaw", _pose_array(self.yaw, (n,), "yaw"))

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])

    def find(self, ids: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, found)``: the row of each id in ``ids`` and whether it has one (rows are 0 where not)."""
        ids = _as_str_array(ids, "ids")
        if not len(self.ids):
            return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
        order = np.argsort(self.ids)
        sorted_ids = self.ids[order]
        pos = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
        found = sorted_ids[pos] == ids
        return np.where(found, order[pos], 0), found

    def index_of(self, ids: Any, *, source: str = "protocol") -> np.ndarray:
        """Row index of each id in ``ids``; raise naming the first unknown id."""
        ids = _as_str_array(ids, "ids")
        rows, found = self.find(ids)
        if not found.all():
            missing = ids[~found]
            raise InputError(
                f"{source} names {missing.size} image(s) with no descriptor, e.g. {str(missing[0])!r}; "
                "extract descriptors for them or check that ids are paths relative to the same root"
            )
        return rows

    def subset(self, rows: Any) -> DescriptorSet:
        rows = np.asarray(rows)
        return DescriptorSet(
            X=self.X[rows],
            labels=self.labels[rows],
            ids=self.ids[rows],
            provenance=self.provenance,
            X_flip=None if self.X_flip is None else self.X_flip[rows],
            landmarks=None if self.landmarks is None else self.landmarks[rows],
            yaw=None if self.yaw is None else self.yaw[rows],
        )

    def with_labels(self, labels: Any) -> DescriptorSet:
        """The same set with other identity labels (one per row)."""
        return replace(self, labels=labels)

    def unlabelled(self) -> DescriptorSet:
        """The same set with every label unknown (""): what a transductive method may see of a test set."""
        return replace(self, labels=np.full(len(self), "", dtype="<U1"))

    def fused(self, flip: str = "sum") -> DescriptorSet:
        """Combine ``X`` and ``X_flip``: "sum" adds them, "concat" stacks them, "none" drops the flip."""
        if flip not in FLIP_MODES:
            raise InputError(f"flip fusion must be one of {FLIP_MODES}; got {flip!r}")
        if flip == "none":
            X = self.X
        elif self.X_flip is None:
            raise InputError(
                f"flip fusion {flip!r} needs flipped descriptors, but this set has none; "
                "use --flip none or extract with --flip"
            )
        elif flip == "sum":
            X = self.X + self.X_flip
        else:
            X = np.concatenate([self.X, self.X_flip], axis=1)
        return replace(self, X=X, X_flip=None, provenance=self.provenance.with_(flip_fusion=flip))


@dataclass(frozen=True, eq=False)
class PairProtocol:
    """Verification pairs over a list of images.

    ``images`` (K,) are image ids; ``pairs`` (M, 2) int64 index into ``images``.
    ``labels`` (M,) int8 is 1 for "same person", 0 otherwise, or None when hidden
    (competition mode). ``folds`` (M,) int32 assigns pairs to cross-validation folds,
    or None. ``pair_ids`` (M,) are the public names of the pairs (default "0".."M-1").
    ``lines`` (M,) optionally holds the line of the source file each pair was read from, so that
    an error can point at it.
    ``identities`` (K,) is the identity of each image as the protocol states it (LFW names,
    CFP folders, CPLFW file names; "" = unknown), or None when the protocol states none.
    """

    images: np.ndarray
    pairs: np.ndarray
    labels: np.ndarray | None = None
    folds: np.ndarray | None = None
    name: str = "protocol"
    pair_ids: np.ndarray | None = None
    lines: np.ndarray | None = None
    identities: np.ndarray | None = None

    def __post_init__(self) -> None:
        images = _as_str_array(self.images, "protocol images")
        pairs = np.asarray(self.pairs)
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ProtocolError(f"{self.name}: pairs must have shape (M, 2); got {pairs.shape}")
        if pairs.shape[0] == 0:
            raise ProtocolError(f"{self.name}: the protocol has no pairs; check the pair file")
        if not np.issubdtype(pairs.dtype, np.integer):
            raise ProtocolError(f"{self.name}: pair indices must be integers; got {pairs.dtype}")
        pairs = pairs.astype(np.int64, copy=False)
        if pairs.min() < 0 or pairs.max() >= images.shape[0]:
            raise ProtocolError(
                f"{self.name}: a pair points at image {int(pairs.max())} but the protocol lists "
                f"{images.shape[0]} images; indices must be in [0, {images.shape[0]})"
            )
        m = pairs.shape[0]
        labels = None
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.shape != (m,):
                raise ProtocolError(f"{self.name}: {m} pairs but labels have shape {labels.shape}")
            if not np.isin(labels, (0, 1)).all():
                raise ProtocolError(f"{self.name}: labels must be 0 (different) or 1 (same person)")
            labels = labels.astype(np.int8)
        folds = None
        if self.folds is not None:
            folds = np.asarray(self.folds)
            if folds.shape != (m,) or not np.issubdtype(folds.dtype, np.integer):
                raise ProtocolError(f"{self.name}: folds must be {m} integers, one per pair")
            folds = folds.astype(np.int32)
        if self.pair_ids is None:
            # "0".."M-1", unique by construction, in the narrowest string width (memory at 10M pairs)
            pair_ids = np.arange(m).astype(f"<U{len(str(max(m - 1, 0)))}")
        else:
            pair_ids = _as_str_array(self.pair_ids, "pair ids")
            if pair_ids.shape != (m,):
                raise ProtocolError(f"{self.name}: {m} pairs but {pair_ids.shape[0]} pair ids")
            if np.unique(pair_ids).size != m:
                raise ProtocolError(f"{self.name}: pair ids must be unique")
        lines = None
        if self.lines is not None:
            lines = np.asarray(self.lines)
            if lines.shape != (m,) or not np.issubdtype(lines.dtype, np.integer):
                raise ProtocolError(f"{self.name}: lines must be {m} integers, one per pair")
            lines = lines.astype(np.int64)
        identities = None
        if self.identities is not None:
            identities = _as_str_array(self.identities, "protocol identities")
            if identities.shape != images.shape:
                raise ProtocolError(f"{self.name}: {images.size} images but {identities.size} identities")
        object.__setattr__(self, "identities", identities)
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "pairs", pairs)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "folds", folds)
        object.__setattr__(self, "pair_ids", pair_ids)
        object.__setattr__(self, "lines", lines)

    def __len__(self) -> int:
        return int(self.pairs.shape[0])

    @property
    def a(self) -> np.ndarray:
        """Image id of the first face of each pair."""
        return self.images[self.pairs[:, 0]]

    @property
    def b(self) -> np.ndarray:
        """Image id of the second face of each pair."""
        return self.images[self.pairs[:, 1]]

    @classmethod
    def from_id_pairs(
        cls,
        a: Any,
        b: Any,
        labels: Any = None,
        folds: Any = None,
        name: str = "protocol",
        pair_ids: Any = None,
        lines: Any = None,
        identities: tuple[Any, Any] | None = None,
    ) -> PairProtocol:
        """Build a protocol from two parallel lists of image ids.

        ``identities=(id_a, id_b)`` optionally gives the identity of both sides of every pair;
        an image must have one identity wherever it appears.
        """
        a = _as_str_array(a, "first images")
        b = _as_str_array(b, "second images")
        if a.shape != b.shape:
            raise ProtocolError(f"{name}: {a.size} first images but {b.size} second images")
        images, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        pairs = inverse.reshape(2, -1).T
        per_image = None
        if identities is not None:
            stated = np.concatenate([_as_str_array(identities[0], "identities"),
                                     _as_str_array(identities[1], "identities")])
            if stated.shape != inverse.shape:
                raise ProtocolError(f"{name}: {a.size} pairs but identities for {stated.size // 2}")
            per_image = np.empty(images.size, dtype=stated.dtype)
            per_image[inverse] = stated
            clash = np.flatnonzero(per_image[inverse] != stated)
            if clash.size:
                k = int(inverse[clash[0]])
                raise ProtocolError(f"{name}: image {str(images[k])!r} is given two identities "
                                    f"({str(per_image[k])!r} and {str(stated[clash[0]])!r})")
        return cls(images=images, pairs=pairs, labels=labels, folds=folds, name=name, pair_ids=pair_ids,
                   lines=lines, identities=per_image)

    def without_labels(self) -> PairProtocol:
        """The same pairs with labels hidden, and without identities (which would tell the labels)."""
        return replace(self, labels=None, identities=None)

    def subset(self, rows: Any) -> PairProtocol:
        rows = np.asarray(rows)
        return PairProtocol(
            images=self.images,
            pairs=self.pairs[rows],
            labels=None if self.labels is None else self.labels[rows],
            folds=None if self.folds is None else self.folds[rows],
            name=self.name,
            pair_ids=self.pair_ids[rows],
            lines=None if self.lines is None else self.lines[rows],
            identities=self.identities,
        )

    def compact(self) -> PairProtocol:
        """The same pairs over only the images they use (itself when every image is used)."""
        used, inverse = np.unique(self.pairs, return_inverse=True)
        if used.size == self.images.size:
            return self
        return replace(self, images=self.images[used], pairs=inverse.reshape(self.pairs.shape),
                       identities=None if self.identities is None else self.identities[used])

    def resolve(self, descriptors: DescriptorSet) -> tuple[np.ndarray, np.ndarray]:
        """Row indices (ia, ib) into ``descriptors`` for both faces of every pair; an image without a
        descriptor is refused, naming the first pair (and its line) that uses it."""
        try:
            rows = descriptors.index_of(self.images, source=self.name)
        except InputError:
            missing = ~np.isin(self.images, descriptors.ids)
            k = int(np.flatnonzero(missing[self.pairs].any(axis=1))[0])
            image = self.images[self.pairs[k]][missing[self.pairs[k]]][0]
            where = f"{self.name}:{self.lines[k]}" if self.lines is not None else f"{self.name}: pair {self.pair_ids[k]}"
            raise InputError(
                f"{where}: image {str(image)!r} has no descriptor ({int(missing.sum())} of the "
                f"{self.images.size} images of the protocol have none); extract descriptors for them or check "
                "that ids are paths relative to the same root"
            ) from None
        return rows[self.pairs[:, 0]], rows[self.pairs[:, 1]]
