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
4. **Negative pairs** (different people) in each fold, as many as positives, each pair of
   identities at most once, under the same caps. Two sources, neither of them the descriptors
   under test:

   * ``"pose"`` (the default): impostors matched on pose. Each positive's two yaws fall in yaw
     bands (``round(yaw / yaw_band)``; a pair and its mirror image count as the same band
     pair); impostor pairs are drawn at random (seeded) while their band pair is still short
     of the positives' count, then, if a band ran out, at random from any band. The negatives
     then cross pose as the positives do, so neither the yaw gap nor any descriptor ranks them.
   * ``"descriptors"``: the impostors most similar under cosine on a *second* descriptor
     model's descriptors (``mine_with``), most similar first, greedily (hard negatives, as
     CPLFW's were chosen with another model than those it tests).

Mining with the descriptors under test makes the protocol hardest for cosine on them by
construction, so any scorer that ranks differently gains (plain L2 did); the command line
refuses it, and evaluate/benchmark refuse descriptors that match a protocol's mining model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from facemetric.constraints import Interval, Options, check_params
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
    negatives: str = "pose"
    yaw_band: float = 10.0

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_folds": [Interval("int", 2)],
        "pairs_per_fold": [Interval("int", 1)],
        "max_pairs_per_identity": [Interval("int", 1)],
        "max_image_uses": [Interval("int", 1)],
        "min_yaw_gap": [Interval("float", 0)],
        "negatives": [Options(("pose", "descriptors"))],
        "yaw_band": [Interval("float", 0, closed="neither")],
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


class _PairCaps:
    """The usage caps of one class of pairs in one fold, with the pairs accepted so far."""

    def __init__(self, ia: np.ndarray, ib: np.ndarray, id_codes: np.ndarray, *, max_pairs_per_identity: int,
                 max_image_uses: int, distinct_identity_pairs: bool) -> None:
        self.ia, self.ib, self.id_codes = ia, ib, id_codes
        self.max_identity, self.max_image = max_pairs_per_identity, max_image_uses
        self.distinct = distinct_identity_pairs
        self.image_uses: dict[int, int] = {}
        self.identity_uses: dict[int, int] = {}
        self.identity_pairs: set[tuple[int, int]] = set()
        self.chosen: list[int] = []

    def accept(self, c: int) -> bool:
        """Take candidate ``c`` if no cap forbids it."""
        a, b = int(self.ia[c]), int(self.ib[c])
        ida, idb = int(self.id_codes[a]), int(self.id_codes[b])
        if self.image_uses.get(a, 0) >= self.max_image or self.image_uses.get(b, 0) >= self.max_image:
            return False
        if self.identity_uses.get(ida, 0) >= self.max_identity or self.identity_uses.get(idb, 0) >= self.max_identity:
            return False
        pair_key = (min(ida, idb), max(ida, idb))
        if self.distinct and pair_key in self.identity_pairs:
            return False
        self.identity_pairs.add(pair_key)
        self.image_uses[a] = self.image_uses.get(a, 0) + 1
        self.image_uses[b] = self.image_uses.get(b, 0) + 1
        self.identity_uses[ida] = self.identity_uses.get(ida, 0) + 1
        if idb != ida:
            self.identity_uses[idb] = self.identity_uses.get(idb, 0) + 1
        self.chosen.append(int(c))
        return True


def _greedy_pairs(
    ia: np.ndarray, ib: np.ndarray, key: np.ndarray, id_codes: np.ndarray, *, n_wanted: int,
    max_pairs_per_identity: int, max_image_uses: int, rng: np.random.Generator, distinct_identity_pairs: bool,
) -> np.ndarray:
    """Indices of candidates accepted greedily by decreasing ``key`` under the usage caps."""
    tiebreak = rng.permutation(ia.size)
    order = np.lexsort((tiebreak, -key))
    caps = _PairCaps(ia, ib, id_codes, max_pairs_per_identity=max_pairs_per_identity,
                     max_image_uses=max_image_uses, distinct_identity_pairs=distinct_identity_pairs)
    for c in order:
        if caps.accept(c) and len(caps.chosen) == n_wanted:
            break
    return np.asarray(caps.chosen, dtype=np.int64)


def yaw_band_pair(yaw_a: np.ndarray, yaw_b: np.ndarray, width: float) -> np.ndarray:
    """One integer code per pair for its two yaw bands (``round(yaw / width)``), the same for a
    pair, its swap and its mirror image (yaws negated): pose-matched negatives compare these."""
    ba = np.rint(np.asarray(yaw_a, float) / width).astype(np.int64)
    bb = np.rint(np.asarray(yaw_b, float) / width).astype(np.int64)
    lo, hi = np.minimum(ba, bb), np.maximum(ba, bb)
    mlo, mhi = -hi, -lo  # the mirror image: both yaws negated
    take_mirror = (mlo < lo) | ((mlo == lo) & (mhi < hi))
    lo, hi = np.where(take_mirror, mlo, lo), np.where(take_mirror, mhi, hi)
    return lo * (1 << 32) + hi  # unique while |band| < 2**31


def _pose_matched_pairs(
    ia: np.ndarray, ib: np.ndarray, band: np.ndarray, wanted: dict[int, int], id_codes: np.ndarray, *,
    n_wanted: int, max_pairs_per_identity: int, max_image_uses: int, rng: np.random.Generator,
) -> tuple[np.ndarray, int]:
    """Impostor candidates in a seeded random order, first those whose yaw-band pair is still short
    of ``wanted`` (the positives' counts), then any; returns the chosen indices and how many matched."""
    order = rng.permutation(ia.size)
    caps = _PairCaps(ia, ib, id_codes, max_pairs_per_identity=max_pairs_per_identity,
                     max_image_uses=max_image_uses, distinct_identity_pairs=True)
    short = dict(wanted)
    for c in order[np.isin(band[order], np.fromiter(wanted, dtype=np.int64, count=len(wanted)))]:
        k = int(band[c])
        if short[k] > 0 and caps.accept(c):
            short[k] -= 1
            if len(caps.chosen) == n_wanted:
                break
    matched = len(caps.chosen)
    if matched < n_wanted:
        taken = set(caps.chosen)
        for c in order:
            if c not in taken and caps.accept(c) and len(caps.chosen) == n_wanted:
                break
    return np.asarray(caps.chosen, dtype=np.int64), matched


def build_cross_pose_protocol(
    ids: Any, labels: Any, yaw: Any, config: CrossPoseConfig | None = None, *, mine_with: Any = None,
    name: str = "lfw-cross-pose",
) -> CrossPoseProtocol:
    """Build the protocol from aligned arrays: image ids, identity labels and yaw (N,) degrees.

    ``config.negatives == "pose"`` (the default) mines the negatives from the yaws alone; with
    ``"descriptors"``, ``mine_with`` is a second descriptor model's (N, D) descriptors of the same
    images (never the ones to be evaluated), and the negatives are its most similar impostors.
    Images whose yaw (or mining descriptor) is not finite are left out. Raises when a fold cannot
    hold a single positive pair.
    """
    config = config or CrossPoseConfig()
    ids = np.asarray(ids).astype(str)
    labels = np.asarray(labels).astype(str)
    yaw = np.asarray(yaw, dtype=np.float64)
    n = ids.size
    if labels.shape != (n,) or yaw.shape != (n,):
        raise InputError(f"cross-pose protocol: {n} ids but labels {labels.shape} and yaw {yaw.shape}; give one "
                         f"of each per image")
    by_descriptors = config.negatives == "descriptors"
    if by_descriptors != (mine_with is not None):
        raise InputError("cross-pose protocol: negatives='descriptors' needs mine_with (a second model's "
                         "descriptors), and negatives='pose' takes none" if by_descriptors else
                         "cross-pose protocol: mine_with is given but negatives='pose' mines from yaw only; "
                         "set negatives='descriptors'")
    keep = np.isfinite(yaw)
    no_mining = 0
    if by_descriptors:
        X = np.asarray(mine_with, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != n:
            raise InputError(f"cross-pose protocol: {n} ids but mining descriptors of shape {X.shape}; give one "
                             f"row per image")
        finite = np.isfinite(X).all(axis=1)
        no_mining = int((keep & ~finite).sum())
        keep &= finite
    n_without_landmarks = int((~np.isfinite(yaw)).sum())
    if not keep.all():
        ids, labels, yaw = ids[keep], labels[keep], yaw[keep]
    if np.unique(labels).size < 2 * config.n_folds:
        raise InputError(f"cross-pose protocol: {np.unique(labels).size} identities with landmarks cannot fill "
                         f"{config.n_folds} identity-disjoint folds; lower n_folds or add identities")
    folds_of = assign_identity_folds(labels, config.n_folds, config.max_pairs_per_identity, config.seed)
    image_fold = np.array([folds_of[s] for s in labels])
    id_names, id_codes = np.unique(labels, return_inverse=True)
    Z = None
    if by_descriptors:
        Z = X[keep]
        Z /= np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(config.seed)
    caps = {"max_pairs_per_identity": config.max_pairs_per_identity, "max_image_uses": config.max_image_uses}

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
        pos = _greedy_pairs(pa, pb, gap, id_codes, n_wanted=config.pairs_per_fold, rng=rng,
                            distinct_identity_pairs=False, **caps)
        if pos.size == 0:
            raise InputError(f"cross-pose protocol: fold {f} has no same-identity pair; lower n_folds")
        # --- negatives: different identities, never ranked by the descriptors under test ---
        diff = ~same
        na, nb = rows[iu[diff]], rows[ju[diff]]
        fold_stats: dict[str, Any] = {}
        if by_descriptors:
            sim = Z[rows] @ Z[rows].T
            nsim = sim[iu[diff], ju[diff]]
            neg = _greedy_pairs(na, nb, nsim, id_codes, n_wanted=pos.size, rng=rng, distinct_identity_pairs=True,
                                **caps)
            fold_stats["negative_mining_cosine_median"] = float(np.median(nsim[neg])) if neg.size else float("nan")
        else:
            band = yaw_band_pair(yaw[na], yaw[nb], config.yaw_band)
            pos_band = yaw_band_pair(yaw[pa[pos]], yaw[pb[pos]], config.yaw_band)
            wanted = dict(zip(*(v.tolist() for v in np.unique(pos_band, return_counts=True))))
            neg, matched = _pose_matched_pairs(na, nb, band, wanted, id_codes, n_wanted=pos.size, rng=rng, **caps)
            fold_stats["negatives_band_matched"] = int(matched)
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
            "positive_yaw_gap_min": float(gap[pos].min()), **fold_stats,
        })
    a = np.concatenate(out_a)
    b = np.concatenate(out_b)
    y = np.concatenate(out_y)
    folds = np.concatenate(out_f)
    yaw_gap = np.concatenate(gaps)
    pair_ids = np.array([f"{f}-{k}" for f, k in zip(folds, _rank_within(folds))])
    protocol = PairProtocol.from_id_pairs(ids[a], ids[b], labels=y, folds=folds, name=name, pair_ids=pair_ids)
    mining: dict[str, Any] = ({"source": "descriptors", "rule": "most similar impostors under cosine"}
                              if by_descriptors else
                              {"source": "pose", "rule": "random impostors matched on yaw bands",
                               "yaw_band": config.yaw_band,
                               "band_matched": int(sum(fs["negatives_band_matched"] for fs in per_fold))})
    stats = {
        "n_pairs": int(y.size), "n_positives": int(y.sum()), "n_negatives": int((y == 0).sum()),
        "images_without_landmarks": n_without_landmarks,
        **({"images_without_mining_descriptor": no_mining} if by_descriptors else {}),
        "positive_yaw_gap_median": float(np.median(yaw_gap[y == 1])),
        "negative_yaw_gap_median": float(np.median(yaw_gap[y == 0])),
        "mining": mining,
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


def construction_path(protocol_path: Any) -> Path:
    """Where `facemetric protocol cross-pose` records how a protocol was built: ``<protocol>.json``."""
    return Path(str(protocol_path) + ".json")


def read_construction(protocol_path: Any) -> dict[str, Any] | None:
    """The construction record next to a generated protocol, or None when there is none.

    A record written before the mining source was kept has no ``mining`` entry; its negatives were
    mined with cosine on the ``descriptors`` it names, and the record says so.
    """
    import json

    path = construction_path(protocol_path)
    if not Path(protocol_path).is_file() or not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable protocol construction record ({exc}); rebuild the protocol "
                         f"with `facemetric protocol cross-pose` or remove the file") from exc
    if not isinstance(record, dict):
        raise InputError(f"{path}: not a protocol construction record (expected a JSON object)")
    if "mining" not in record:
        record["mining"] = {"source": "descriptors", "rule": "most similar impostors under cosine (recorded "
                            "before the mining source was; the descriptors listed may be those under test)",
                            "descriptors": record.get("descriptors")}
    return record


def check_not_mined_with(record: dict[str, Any] | None, fingerprint: dict[str, Any], protocol_path: Any,
                         descriptors_path: Any) -> None:
    """Refuse to evaluate descriptors that mined the protocol's negatives (same content or model)."""
    from facemetric.io.descriptors import same_descriptor_model

    model = (record or {}).get("mining", {}).get("fingerprint")
    if model and same_descriptor_model(model, fingerprint):
        raise InputError(
            f"{descriptors_path}: these descriptors mined the negatives of {protocol_path} (same "
            f"{'content' if model.get('content_sha256') == fingerprint.get('content_sha256') else 'model'}), "
            f"so the protocol favours any scorer that ranks impostors differently from their cosine; "
            f"evaluate another model's descriptors, or rebuild the protocol with pose-matched negatives "
            f"(`facemetric protocol cross-pose` without --mine-with)")


def mining_note(protocol_path: Any, descriptors: Any, descriptors_path: Any) -> tuple[dict[str, Any] | None, str | None]:
    """For evaluate and benchmark: the protocol's construction record, refused when ``descriptors``
    mined its negatives, and a one-line note on the mining source (both None for other protocols)."""
    from facemetric.io.descriptors import descriptor_fingerprint

    record = read_construction(protocol_path)
    if record is None:
        return None, None
    check_not_mined_with(record, descriptor_fingerprint(descriptors), protocol_path, descriptors_path)
    mining = record["mining"]
    where = f" ({mining['descriptors']})" if mining.get("descriptors") else ""
    note = f"negatives of {Path(protocol_path).name}: {mining.get('rule', mining.get('source'))}{where}"
    return {"mining": mining, "config": record.get("config")}, note
