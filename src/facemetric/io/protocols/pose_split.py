"""A frontal-to-turned train/test split of one labelled face set (a CFP-FP stand-in built from LFW).

The held-out check of facemetric trains on LFW and tests frontal-versus-profile pairs of
other people, laid out as CFP (10 frontal and 4 profile photos per person). This builds the
same shape from any descriptor set whose images have a yaw estimate, so that methods can be
developed without that test set. Every choice is seeded; nothing looks at the descriptors.

1. **Test identities**: those with at least one *frontal* photo (``|yaw| <= frontal_max_yaw``)
   and one *turned* photo (``|yaw| >= turned_min_yaw``) and at most
   ``max_images_per_test_identity`` photos in all (the few people with hundreds of photos stay
   in training, where they carry most of the within-identity variation); at most
   ``max_test_identities`` of them, drawn at random. Each keeps up to ``frontal_per_identity`` random frontal photos and
   its ``turned_per_identity`` most turned photos; its other photos are used nowhere.
2. **Folds**: the test identities are dealt to ``n_folds`` identity-disjoint folds.
3. **Positive pairs**: up to ``pairs_per_identity`` random (frontal, turned) pairs of each
   test identity.
4. **Negative pairs**: in each fold, as many (frontal, turned) pairs of two different
   identities of the fold, each pair of identities at most once. By default they are random:
   mined from the pose only (frontal against turned, like the positives). With ``miner``, the
   descriptors of *another* model for the test images, they are the hardest such impostors
   under that model's cosine (accepted greedily, each image in at most ``max_image_uses``
   negatives), as CPLFW mined its negatives with a model other than the ones it tests. Never
   from the descriptors under test, so no scorer is favoured by construction.
5. **Training set**: every photo of the other identities, restricted to
   ``|yaw| <= train_max_yaw`` when that is set ("train on frontal photos"); photos with an
   unknown yaw are kept only when ``train_max_yaw`` is None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from facemetric.constraints import Interval, check_params
from facemetric.errors import ConfigError, InputError
from facemetric.identity import identities_of
from facemetric.io.protocols.cross_pose import _greedy_pairs
from facemetric.types import DescriptorSet, PairProtocol


@dataclass(frozen=True)
class PoseSplitConfig:
    """Parameters of the split; recorded next to the generated files."""

    frontal_max_yaw: float = 10.0
    turned_min_yaw: float = 25.0
    train_max_yaw: float | None = 20.0
    max_test_identities: int = 500
    max_images_per_test_identity: int = 40
    frontal_per_identity: int = 10
    turned_per_identity: int = 4
    pairs_per_identity: int = 7
    n_folds: int = 10
    max_image_uses: int = 2
    seed: int = 0

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **{name: [Interval("int", 1)] for name in (
            "max_test_identities", "max_images_per_test_identity", "frontal_per_identity", "turned_per_identity",
            "pairs_per_identity", "max_image_uses")},
        "n_folds": [Interval("int", 2)],
        "frontal_max_yaw": [Interval("float", 0)],
        "turned_min_yaw": [Interval("float", 0)],
        "train_max_yaw": [None, Interval("float", 0)],
    }

    def __post_init__(self) -> None:
        check_params("the pose split", asdict(self), self._parameter_constraints)
        if not self.frontal_max_yaw < self.turned_min_yaw:
            raise ConfigError("The pose split needs frontal_max_yaw < turned_min_yaw. Got "
                              f"{self.frontal_max_yaw!r} and {self.turned_min_yaw!r} instead.")

@dataclass
class PoseSplit:
    """The training set, the test set (the images the pairs may use) and the pairs."""

    train: DescriptorSet
    test: DescriptorSet
    protocol: PairProtocol
    config: PoseSplitConfig
    stats: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"config": asdict(self.config), **self.stats}


def _pairs_of_identity(frontal: np.ndarray, turned: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``n`` distinct (frontal, turned) row pairs, drawn at random."""
    combos = np.stack(np.meshgrid(frontal, turned, indexing="ij"), axis=-1).reshape(-1, 2)
    return combos[rng.permutation(len(combos))[:n]]


def _random_negatives(fr: np.ndarray, tu: np.ndarray, wanted: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``wanted`` distinct (frontal row, turned row) pairs of different identities, uniformly drawn.

    ``fr`` and ``tu`` are (n, 2) arrays of (row, identity code).
    """
    seen: set[tuple[int, int]] = set()
    for _ in range(50 * wanted):  # rejection sampling
        if len(seen) == wanted:
            break
        i, j = fr[rng.integers(len(fr))], tu[rng.integers(len(tu))]
        if i[1] != j[1]:
            seen.add((int(i[0]), int(j[0])))
    return np.array(sorted(seen), dtype=np.int64).reshape(-1, 2)


def _hard_negatives(fr: np.ndarray, tu: np.ndarray, wanted: int, Z: np.ndarray, codes: np.ndarray,
                    max_image_uses: int, rng: np.random.Generator) -> np.ndarray:
    """The ``wanted`` most similar (frontal, turned) impostor pairs under the rows ``Z`` of the mining model."""
    ia, ib = (g.ravel() for g in np.meshgrid(fr[:, 0], tu[:, 0], indexing="ij"))
    other = codes[ia] != codes[ib]
    ia, ib = ia[other], ib[other]
    sim = np.einsum("ij,ij->i", Z[ia], Z[ib])
    keep = _greedy_pairs(ia, ib, sim, codes, n_wanted=wanted, max_pairs_per_identity=wanted,
                         max_image_uses=max_image_uses, rng=rng, distinct_identity_pairs=True)
    return np.stack([ia[keep], ib[keep]], axis=1)


def _mining_rows(descriptors: DescriptorSet, miner: DescriptorSet, rows: np.ndarray) -> np.ndarray:
    """L2-normalised descriptors of the mining model, aligned with ``descriptors``; refuses the same model."""
    mine = miner.index_of(descriptors.ids[rows], source="the hard-negative miner")
    Z = np.zeros((len(descriptors), miner.dim), dtype=np.float64)
    Z[rows] = miner.X[mine]
    a, b = descriptors.provenance.backbone, miner.provenance.backbone
    same = a == b and a != "unknown"
    if same or (descriptors.dim == miner.dim and np.allclose(descriptors.X[rows], miner.X[mine])):
        raise InputError(f"the hard-negative miner is the model under test ({b}); mine with another descriptor "
                         "model, or leave the negatives random")
    return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)


def build_pose_split(descriptors: DescriptorSet, config: PoseSplitConfig | None = None, *,
                     miner: DescriptorSet | None = None, name: str = "pose-split") -> PoseSplit:
    """Build the split from a descriptor set with ``yaw`` (identities from labels or image folders).

    ``miner``: descriptors of the test images from another model, to mine hard negatives
    (after its own flip fusion); None draws them at random.
    """
    config = config or PoseSplitConfig()
    if descriptors.yaw is None:
        raise InputError("the pose split needs a yaw estimate per image; extract with facemetric extract, or add "
                         "landmarks with --landmarks (facemetric.detect.attach.with_landmarks)")
    labels = identities_of(descriptors)
    yaw = np.abs(descriptors.yaw.astype(np.float64))
    known = np.isfinite(yaw)
    frontal = known & (yaw <= config.frontal_max_yaw)
    turned = known & (yaw >= config.turned_min_yaw)
    names, codes = np.unique(labels, return_inverse=True)
    has_frontal = np.bincount(codes[frontal], minlength=names.size) > 0
    has_turned = np.bincount(codes[turned], minlength=names.size) > 0
    small = np.bincount(codes, minlength=names.size) <= config.max_images_per_test_identity
    eligible = np.flatnonzero(has_frontal & has_turned & small)
    if eligible.size < 2 * config.n_folds:
        raise InputError(f"the pose split found {eligible.size} identities with a photo of |yaw| <= "
                         f"{config.frontal_max_yaw:g} and one of |yaw| >= {config.turned_min_yaw:g}; it needs "
                         f"{2 * config.n_folds} for {config.n_folds} folds: widen the yaw bands or lower n_folds")
    rng = np.random.default_rng(config.seed)
    chosen = np.sort(rng.choice(eligible, size=min(eligible.size, config.max_test_identities), replace=False))
    fold_of = np.full(names.size, -1)
    fold_of[chosen[rng.permutation(chosen.size)]] = np.arange(chosen.size) % config.n_folds

    test_rows: list[int] = []
    pos: list[np.ndarray] = []
    per_fold_frontal: dict[int, list[tuple[int, int]]] = {f: [] for f in range(config.n_folds)}
    per_fold_turned: dict[int, list[tuple[int, int]]] = {f: [] for f in range(config.n_folds)}
    for ident in chosen:
        mine = codes == ident
        f_rows = np.flatnonzero(mine & frontal)
        f_rows = np.sort(rng.permutation(f_rows)[: config.frontal_per_identity])
        t_rows = np.flatnonzero(mine & turned)
        t_rows = np.sort(t_rows[np.argsort(-yaw[t_rows], kind="stable")][: config.turned_per_identity])
        test_rows += f_rows.tolist() + t_rows.tolist()
        pos.append(_pairs_of_identity(f_rows, t_rows, config.pairs_per_identity, rng))
        per_fold_frontal[int(fold_of[ident])] += [(int(r), int(ident)) for r in f_rows]
        per_fold_turned[int(fold_of[ident])] += [(int(r), int(ident)) for r in t_rows]

    positives = np.concatenate(pos)
    pos_fold = fold_of[codes[positives[:, 0]]]
    Z = None if miner is None else _mining_rows(descriptors, miner, np.asarray(test_rows))
    a, b, y, folds = [], [], [], []
    for f in range(config.n_folds):
        fp = positives[pos_fold == f]
        fr = np.array(per_fold_frontal[f])
        tu = np.array(per_fold_turned[f])
        if Z is None:
            neg = _random_negatives(fr, tu, len(fp), rng)
        else:
            neg = _hard_negatives(fr, tu, len(fp), Z, codes, config.max_image_uses, rng)
        a += [fp[:, 0], neg[:, 0]]
        b += [fp[:, 1], neg[:, 1]]
        y += [np.ones(len(fp), np.int8), np.zeros(len(neg), np.int8)]
        folds += [np.full(len(fp) + len(neg), f, np.int32)]
    a, b, y, folds = (np.concatenate(v) for v in (a, b, y, folds))
    ids = descriptors.ids
    protocol = PairProtocol.from_id_pairs(ids[a], ids[b], labels=y, folds=folds, name=name)

    is_test_identity = np.isin(codes, chosen)
    keep_train = ~is_test_identity
    if config.train_max_yaw is not None:
        keep_train &= known & (yaw <= config.train_max_yaw)
    train = descriptors.with_labels(labels).subset(np.flatnonzero(keep_train))
    test = descriptors.with_labels(labels).subset(np.sort(np.asarray(test_rows)))
    gap = np.abs(np.abs(descriptors.yaw[a]) - np.abs(descriptors.yaw[b]))
    stats = {
        "negatives": "random frontal-turned impostor pairs (pose only)" if miner is None else
        f"hardest frontal-turned impostor pairs under cosine of another model ({miner.provenance.backbone})",
        "n_pairs": int(y.size), "n_positives": int(y.sum()), "n_negatives": int((y == 0).sum()),
        "test_identities": int(chosen.size), "eligible_identities": int(eligible.size), "test_images": len(test),
        "train_images": len(train), "train_identities": int(np.unique(train.labels).size),
        "train_images_left_out_for_yaw": int((~is_test_identity & ~keep_train).sum()),
        "positive_turned_abs_yaw_median": float(np.median(yaw[b[y == 1]])),
        "positive_abs_yaw_gap_median": float(np.median(gap[y == 1])),
        "negative_abs_yaw_gap_median": float(np.median(gap[y == 0])),
        "train_abs_yaw_max": float(np.nanmax(yaw[keep_train])) if keep_train.any() else None,
    }
    return PoseSplit(train=train, test=test, protocol=protocol, config=config, stats=stats)
