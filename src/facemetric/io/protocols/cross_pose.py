"""A cross-pose verification protocol built from a labelled face set (a CPLFW stand-in for LFW).

Construction (all choices seeded, the result is deterministic):

1. **Yaw** of each image from its 5 landmarks (:func:`facemetric.io.protocols.yaw.estimate_yaw`).
2. **Folds of identities.** Every identity goes to one fold, so the folds are identity-disjoint.
   Identities are shuffled with the seed, then dealt greedily (largest first) to the fold with
   the least positive-pair capacity so far; identities with one image are dealt to the fold
   with the fewest images.
3. **Positive pairs** (same person) in each fold: all same-identity pairs sorted by the yaw
   gap ``|yaw_a - yaw_b|``, largest first, accepted greedily while the identity has fewer than
   ``max_pairs_per_identity`` positives and each image is used fewer than ``max_image_uses``
   times.
4. **Hard negative pairs** (different people) in each fold: all impostor pairs of the fold
   sorted by the cosine similarity of their descriptors, most similar first, accepted greedily
   under the same caps, each pair of identities at most once.

The negatives are the impostors that *this* descriptor model confuses most: the protocol is
hardest for cosine on these descriptors, by construction. Report it with that in mind.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from facemetric.constraints import Interval, check_params
from facemetric.errors import InputError
from facemetric.types import PairProtocol


@dataclass(frozen=True)
class CrossPoseConfig:
    """Parameters of the construction; recorded next to the generated protocol."""

    n_folds: int = 10
    pairs_per_fold: int = 300
    max_pairs_per_identity: int = 10
    max_image_uses: int = 2
    min_yaw_gap: float = 0.0
    seed: int = 0

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_folds": [Interval("int", 2)],
        "pairs_per_fold": [Interval("int", 1)],
        "max_pairs_per_identity": [Interval("int", 1)],
        "max_image_uses": [Interval("int", 1)],
        "min_yaw_gap": [Interval("float", 0)],
    }

    def __post_init__(self) -> None:
        check_params("the cross-pose protocol", asdict(self), self._parameter_constraints)


@dataclass
class CrossPoseProtocol:
    """The generated protocol and what went into it."""

    protocol: PairProtocol
    config: CrossPoseConfig
    yaw_gap: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"config": asdict(self.config), **self.stats}


def assign_identity_folds(labels: np.ndarray, n_folds: int, max_pairs_per_identity: int, seed: int) -> dict[str, int]:
    """Deal identities to folds, balancing positive-pair capacity, then image counts."""
    names, counts = np.unique(labels, return_counts=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(names.size)
    capacity = np.minimum(counts * (counts - 1) // 2, max_pairs_per_identity)
    # largest capacity first (stable, so ties keep the seeded order)
    order = order[np.argsort(-capacity[order], kind="stable")]
    fold_capacity = np.zeros(n_folds, dtype=np.int64)
    fold_images = np.zeros(n_folds, dtype=np.int64)
    assignment: dict[str, int] = {}
    for i in order:
        if capacity[i] > 0:
            f = int(np.argmin(fold_capacity))
        else:
            f = int(np.argmin(fold_images))
        fold_capacity[f] += capacity[i]
        fold_images[f] += counts[i]
        assignment[str(names[i])] = f
    return assignment


def _greedy_pairs(
    ia: np.ndarray, ib: np.ndarray, key: np.ndarray, id_codes: np.ndarray, *, n_wanted: int,
    max_pairs_per_identity: int, max_image_uses: int, rng: np.random.Generator, distinct_identity_pairs: bool,
) -> np.ndarray:
    """Indices of candidates accepted greedily by decreasing ``key`` under the usage caps."""
    tiebreak = rng.permutation(ia.size)
    order = np.lexsort((tiebreak, -key))
    image_uses: dict[int, int] = {}
    identity_uses: dict[int, int] = {}
    seen_identity_pairs: set[tuple[int, int]] = set()
    chosen: list[int] = []
    for c in order:
        a, b = int(ia[c]), int(ib[c])
        ida, idb = int(id_codes[a]), int(id_codes[b])
        if image_uses.get(a, 0) >= max_image_uses or image_uses.get(b, 0) >= max_image_uses:
            continue
        if identity_uses.get(ida, 0) >= max_pairs_per_identity or identity_uses.get(idb, 0) >= max_pairs_per_identity:
            continue
        if distinct_identity_pairs:
            pair_key = (min(ida, idb), max(ida, idb))
            if pair_key in seen_identity_pairs:
                continue
            seen_identity_pairs.add(pair_key)
        image_uses[a] = image_uses.get(a, 0) + 1
        image_uses[b] = image_uses.get(b, 0) + 1
        identity_uses[ida] = identity_uses.get(ida, 0) + 1
        if idb != ida:
            identity_uses[idb] = identity_uses.get(idb, 0) + 1
        chosen.append(int(c))
        if len(chosen) == n_wanted:
            break
    return np.asarray(chosen, dtype=np.int64)


def build_cross_pose_protocol(
    ids: Any, labels: Any, descriptors: Any, yaw: Any, config: CrossPoseConfig | None = None,
    *, name: str = "lfw-cross-pose",
) -> CrossPoseProtocol:
    """Build the protocol from aligned arrays: image ids, identity labels, descriptors (N, D), yaw (N,) degrees.

    Images whose yaw is NaN are left out. Raises when a fold cannot hold a single positive pair.
    """
    config = config or CrossPoseConfig()
    ids = np.asarray(ids).astype(str)
    labels = np.asarray(labels).astype(str)
    X = np.asarray(descriptors, dtype=np.float32)
    yaw = np.asarray(yaw, dtype=np.float64)
    n = ids.size
    if labels.shape != (n,) or yaw.shape != (n,) or X.ndim != 2 or X.shape[0] != n:
        raise InputError(f"cross-pose protocol: {n} ids but labels {labels.shape}, yaw {yaw.shape} and "
                         f"descriptors {X.shape}; give one of each per image")
    keep = np.isfinite(yaw)
    if not keep.all():
        ids, labels, X, yaw = ids[keep], labels[keep], X[keep], yaw[keep]
    if np.unique(labels).size < 2 * config.n_folds:
        raise InputError(f"cross-pose protocol: {np.unique(labels).size} identities with landmarks cannot fill "
                         f"{config.n_folds} identity-disjoint folds; lower n_folds or add identities")
    folds_of = assign_identity_folds(labels, config.n_folds, config.max_pairs_per_identity, config.seed)
    image_fold = np.array([folds_of[s] for s in labels])
    id_names, id_codes = np.unique(labels, return_inverse=True)
    Z = X.astype(np.float64)
    Z /= np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(config.seed)

    out_a: list[np.ndarray] = []
    out_b: list[np.ndarray] = []
    out_y: list[np.ndarray] = []
    out_f: list[np.ndarray] = []
    gaps: list[np.ndarray] = []
    per_fold: list[dict[str, Any]] = []
    for f in range(config.n_folds):
        rows = np.flatnonzero(image_fold == f)
        # --- positives: same identity, largest yaw gap ----------------------------------
        codes = id_codes[rows]
        iu, ju = np.triu_indices(rows.size, k=1)
        same = codes[iu] == codes[ju]
        pa, pb = rows[iu[same]], rows[ju[same]]
        gap = np.abs(yaw[pa] - yaw[pb])
        ok = gap >= config.min_yaw_gap
        pa, pb, gap = pa[ok], pb[ok], gap[ok]
        pos = _greedy_pairs(pa, pb, gap, id_codes, n_wanted=config.pairs_per_fold,
                            max_pairs_per_identity=config.max_pairs_per_identity,
                            max_image_uses=config.max_image_uses, rng=rng, distinct_identity_pairs=False)
        if pos.size == 0:
            raise InputError(f"cross-pose protocol: fold {f} has no same-identity pair; lower n_folds")
        # --- hard negatives: different identities, highest cosine ----------------------
        sim = Z[rows] @ Z[rows].T
        diff = ~same
        na, nb = rows[iu[diff]], rows[ju[diff]]
        nsim = sim[iu[diff], ju[diff]]
        neg = _greedy_pairs(na, nb, nsim, id_codes, n_wanted=pos.size,
                            max_pairs_per_identity=config.max_pairs_per_identity,
                            max_image_uses=config.max_image_uses, rng=rng, distinct_identity_pairs=True)
        a = np.concatenate([pa[pos], na[neg]])
        b = np.concatenate([pb[pos], nb[neg]])
        out_a.append(a)
        out_b.append(b)
        out_y.append(np.r_[np.ones(pos.size, np.int8), np.zeros(neg.size, np.int8)])
        out_f.append(np.full(a.size, f, dtype=np.int32))
        gaps.append(np.abs(yaw[a] - yaw[b]))
        per_fold.append({
            "fold": f, "identities": int(np.unique(codes).size), "images": int(rows.size),
            "positives": int(pos.size), "negatives": int(neg.size),
            "positive_yaw_gap_median": float(np.median(gap[pos])),
            "positive_yaw_gap_min": float(gap[pos].min()),
            "negative_cosine_median": float(np.median(nsim[neg])) if neg.size else float("nan"),
        })
    a = np.concatenate(out_a)
    b = np.concatenate(out_b)
    y = np.concatenate(out_y)
    folds = np.concatenate(out_f)
    yaw_gap = np.concatenate(gaps)
    pair_ids = np.array([f"{f}-{k}" for f, k in zip(folds, _rank_within(folds))])
    protocol = PairProtocol.from_id_pairs(ids[a], ids[b], labels=y, folds=folds, name=name, pair_ids=pair_ids)
    stats = {
        "n_pairs": int(y.size), "n_positives": int(y.sum()), "n_negatives": int((y == 0).sum()),
        "images_without_landmarks": int((~keep).sum()),
        "positive_yaw_gap_median": float(np.median(yaw_gap[y == 1])),
        "negative_yaw_gap_median": float(np.median(yaw_gap[y == 0])),
        "folds": per_fold,
    }
    return CrossPoseProtocol(protocol=protocol, config=config, yaw_gap=yaw_gap, stats=stats)


def _rank_within(folds: np.ndarray) -> np.ndarray:
    """0, 1, 2... restarting at each new fold value (folds are contiguous)."""
    out = np.empty(folds.size, dtype=np.int64)
    for f in np.unique(folds):
        idx = np.flatnonzero(folds == f)
        out[idx] = np.arange(idx.size)
    return out


def yaw_for_descriptors(descriptor_ids: Any, landmark_ids: Any, landmarks: Any) -> np.ndarray:
    """Yaw (degrees) of each descriptor row from a landmark list; NaN where an image has no landmarks."""
    from facemetric.io.protocols.yaw import estimate_yaw

    descriptor_ids = np.asarray(descriptor_ids).astype(str)
    landmark_ids = np.asarray(landmark_ids).astype(str)
    pts = np.asarray(landmarks, dtype=np.float64)
    finite = np.isfinite(pts).all(axis=(1, 2))
    position = {s: i for i, s in enumerate(landmark_ids)}
    rows = np.array([position.get(s, -1) for s in descriptor_ids])
    if not (rows >= 0).any():
        raise InputError(
            f"no descriptor id matches a landmark id (e.g. descriptor {str(descriptor_ids[0])!r}, landmarks "
            f"{str(landmark_ids[0])!r}); both must be paths relative to the same dataset root"
        )
    yaw = np.full(descriptor_ids.size, np.nan)
    ok = rows >= 0
    ok[ok] = finite[rows[ok]]
    yaw[ok] = estimate_yaw(pts[rows[ok]])
    return yaw
