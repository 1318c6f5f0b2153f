"""The cross-pose protocol builder on synthetic faces: folds, positives, pose-matched and mined negatives,
caps, seeds."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from facemetric.errors import ConfigError, InputError
from facemetric.io.protocols.cross_pose import CrossPoseConfig, build_cross_pose_protocol, yaw_band_pair


def synthetic_faces(n_ids=80, seed=0, dim=8):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 9, size=n_ids)
    labels = np.repeat([f"p{i:03d}" for i in range(n_ids)], counts)
    ids = np.array([f"{name}/{name}_{k:04d}.jpg" for k, name in enumerate(labels)])
    yaw = rng.uniform(-60, 60, size=labels.size)
    X = rng.normal(size=(labels.size, dim)).astype(np.float32)
    return ids, labels, X, yaw


CFG = CrossPoseConfig(n_folds=4, pairs_per_fold=15, max_pairs_per_identity=3, max_image_uses=2, seed=1)
MINED = CrossPoseConfig(**{**CFG.__dict__, "negatives": "descriptors"})


@pytest.fixture(scope="module")
def built():
    ids, labels, X, yaw = synthetic_faces()
    return (ids, labels, X, yaw), build_cross_pose_protocol(ids, labels, yaw, CFG)


@pytest.fixture(scope="module", params=["pose", "descriptors"])
def either(request):
    ids, labels, X, yaw = synthetic_faces()
    if request.param == "pose":
        return (ids, labels, X, yaw), build_cross_pose_protocol(ids, labels, yaw, CFG)
    return (ids, labels, X, yaw), build_cross_pose_protocol(ids, labels, yaw, MINED, mine_with=X)


def _lookup(ids, labels, yaw, X):
    row = {s: i for i, s in enumerate(ids)}
    return row


def test_folds_are_identity_disjoint_and_labels_are_right(either):
    (ids, labels, X, yaw), res = either
    p = res.protocol
    row = _lookup(ids, labels, yaw, X)
    ra = np.array([row[s] for s in p.a])
    rb = np.array([row[s] for s in p.b])
    assert np.array_equal(labels[ra] == labels[rb], p.labels == 1)
    fold_of_identity: dict[str, int] = {}
    for r, f in zip(np.r_[ra, rb], np.r_[p.folds, p.folds]):
        assert fold_of_identity.setdefault(labels[r], int(f)) == f
    assert sorted(np.unique(p.folds)) == [0, 1, 2, 3]
    for f in range(4):
        m = p.folds == f
        assert p.labels[m].sum() == (p.labels[m] == 0).sum() == 15


def test_caps_are_respected(either):
    (ids, labels, X, yaw), res = either
    p = res.protocol
    row = _lookup(ids, labels, yaw, X)
    for cls in (0, 1):
        m = p.labels == cls
        uses = Counter([row[s] for s in p.a[m]] + [row[s] for s in p.b[m]])
        assert max(uses.values()) <= CFG.max_image_uses
        per_identity = Counter()
        for a, b in zip(p.a[m], p.b[m]):
            per_identity.update({labels[row[a]], labels[row[b]]})
        assert max(per_identity.values()) <= CFG.max_pairs_per_identity
    neg = p.labels == 0
    identity_pairs = [tuple(sorted((labels[row[a]], labels[row[b]]))) for a, b in zip(p.a[neg], p.b[neg])]
    assert len(set(identity_pairs)) == len(identity_pairs)


def _greedy_is_maximal(chosen, candidates, key, labels, cap_id, cap_img):
    """Every candidate with a larger key than the smallest chosen one was blocked by a cap (brute force)."""
    img_uses = Counter([i for pair in chosen for i in pair])
    id_uses = Counter()
    for a, b in chosen:
        id_uses.update({labels[a], labels[b]})
    threshold = min(key[c] for c in chosen)
    chosen_set = set(chosen)
    for c, k in key.items():
        if k > threshold and c not in chosen_set:
            a, b = c
            blocked = (img_uses[a] >= cap_img or img_uses[b] >= cap_img
                       or id_uses[labels[a]] >= cap_id or id_uses[labels[b]] >= cap_id)
            assert blocked, f"candidate {c} with key {k} was skipped without a reason"


def test_positives_take_the_largest_yaw_gaps(built):
    (ids, labels, X, yaw), res = built
    p = res.protocol
    row = _lookup(ids, labels, yaw, X)
    for f in range(4):
        m = (p.folds == f) & (p.labels == 1)
        chosen = [tuple(sorted((row[a], row[b]))) for a, b in zip(p.a[m], p.b[m])]
        fold_rows = {r for pair in chosen for r in pair}
        fold_ids = {labels[r] for r in fold_rows}
        members = [i for i in range(ids.size) if labels[i] in fold_ids]
        key = {(i, j): abs(yaw[i] - yaw[j]) for i in members for j in members if i < j and labels[i] == labels[j]}
        _greedy_is_maximal(chosen, None, key, labels, CFG.max_pairs_per_identity, CFG.max_image_uses)
        assert max(key.values()) == pytest.approx(max(key[c] for c in chosen))


def test_mined_negatives_are_the_most_similar_impostors():
    ids, labels, X, yaw = synthetic_faces()
    res = build_cross_pose_protocol(ids, labels, yaw, MINED, mine_with=X)
    assert res.stats["mining"]["source"] == "descriptors"
    p = res.protocol
    row = _lookup(ids, labels, yaw, X)
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    fold_identity = {}
    for a, f in zip(np.r_[p.a, p.b], np.r_[p.folds, p.folds]):
        fold_identity[labels[row[a]]] = int(f)
    for f in range(4):
        m = (p.folds == f) & (p.labels == 0)
        chosen = [tuple(sorted((row[a], row[b]))) for a, b in zip(p.a[m], p.b[m])]
        # images of the identities that appear in this fold's pairs (identities never paired are not
        # visible here; they could only add candidates, which the max check below would catch as missing)
        members = [i for i in range(ids.size) if fold_identity.get(labels[i]) == f]
        key = {(i, j): float(Z[i] @ Z[j]) for i in members for j in members if i < j and labels[i] != labels[j]}
        assert max(key.values()) == pytest.approx(max(key[c] for c in chosen))
        # skip identity-pair repeats, which the brute-force check does not model
        chosen_pairs = {tuple(sorted((labels[a], labels[b]))) for a, b in chosen}
        key = {c: k for c, k in key.items()
               if c in set(chosen) or tuple(sorted((labels[c[0]], labels[c[1]]))) not in chosen_pairs}
        _greedy_is_maximal(chosen, None, key, labels, CFG.max_pairs_per_identity, CFG.max_image_uses)


def test_deterministic_and_seeded():
    ids, labels, X, yaw = synthetic_faces()
    a = build_cross_pose_protocol(ids, labels, yaw, CFG).protocol
    b = build_cross_pose_protocol(ids, labels, yaw, CFG).protocol
    assert np.array_equal(a.a, b.a) and np.array_equal(a.b, b.b) and np.array_equal(a.folds, b.folds)
    c = build_cross_pose_protocol(ids, labels, yaw, CrossPoseConfig(**{**CFG.__dict__, "seed": 7})).protocol
    assert not (np.array_equal(a.a, c.a) and np.array_equal(a.folds, c.folds))


def test_images_without_yaw_are_left_out():
    ids, labels, X, yaw = synthetic_faces()
    yaw = yaw.copy()
    yaw[::3] = np.nan
    res = build_cross_pose_protocol(ids, labels, yaw, CFG)
    assert not set(ids[::3]) & (set(res.protocol.a) | set(res.protocol.b))
    assert res.stats["images_without_landmarks"] == int(np.isnan(yaw).sum())


def test_min_yaw_gap_is_honoured():
    ids, labels, X, yaw = synthetic_faces()
    cfg = CrossPoseConfig(n_folds=4, pairs_per_fold=5, min_yaw_gap=30.0, seed=1)
    res = build_cross_pose_protocol(ids, labels, yaw, cfg)
    assert res.yaw_gap[res.protocol.labels == 1].min() >= 30.0


def test_bad_inputs():
    ids, labels, X, yaw = synthetic_faces(n_ids=6)
    with pytest.raises(InputError, match="identities"):
        build_cross_pose_protocol(ids, labels, yaw, CrossPoseConfig(n_folds=10))
    with pytest.raises(InputError, match="one of each per image"):
        build_cross_pose_protocol(ids, labels[:-1], yaw)
    with pytest.raises(InputError, match="needs mine_with"):
        build_cross_pose_protocol(ids, labels, yaw, CrossPoseConfig(n_folds=2, negatives="descriptors"))
    with pytest.raises(InputError, match="mine_with is given"):
        build_cross_pose_protocol(ids, labels, yaw, CrossPoseConfig(n_folds=2), mine_with=X)
    with pytest.raises(InputError, match="one row per image"):
        build_cross_pose_protocol(ids, labels, yaw, CrossPoseConfig(n_folds=2, negatives="descriptors"),
                                  mine_with=X[:-1])
    with pytest.raises(ConfigError, match="negatives"):
        CrossPoseConfig(negatives="cosine")
    with pytest.raises(ConfigError, match="yaw_band"):
        CrossPoseConfig(yaw_band=0.0)
    with pytest.raises(ConfigError, match="n_folds"):
        CrossPoseConfig(n_folds=1)
    with pytest.raises(ConfigError, match="min_yaw_gap"):
        CrossPoseConfig(min_yaw_gap=-1.0)


def test_yaw_band_pairs_are_symmetric():
    rng = np.random.default_rng(3)
    ya, yb = rng.uniform(-80, 80, 500), rng.uniform(-80, 80, 500)
    code = yaw_band_pair(ya, yb, 10.0)
    assert np.array_equal(code, yaw_band_pair(yb, ya, 10.0))  # a pair and its swap
    assert np.array_equal(code, yaw_band_pair(-ya, -yb, 10.0))  # and its mirror image
    # two pairs share a code exactly when their band pairs agree up to swap and mirror (brute force)
    bands = [frozenset({(round(a / 10), round(b / 10)), (round(b / 10), round(a / 10)),
                        (-round(a / 10), -round(b / 10)), (-round(b / 10), -round(a / 10))})
             for a, b in zip(np.rint(ya / 10) * 10, np.rint(yb / 10) * 10)]
    for i in range(0, 500, 7):
        for j in range(500):
            assert (code[i] == code[j]) == (bands[i] == bands[j])


def test_pose_negatives_share_the_positives_yaw_bands():
    """Each fold's negatives fill the positives' band pairs first: same counts wherever the fold had
    enough impostors in that band pair, and a random fill for the rest (counted in the stats)."""
    ids, labels, X, yaw = synthetic_faces(n_ids=200, seed=2)
    cfg = CrossPoseConfig(n_folds=3, pairs_per_fold=40, max_pairs_per_identity=3, yaw_band=20.0, seed=4)
    res = build_cross_pose_protocol(ids, labels, yaw, cfg)
    p, row = res.protocol, {s: i for i, s in enumerate(ids)}
    ra, rb = np.array([row[s] for s in p.a]), np.array([row[s] for s in p.b])
    code = yaw_band_pair(yaw[ra], yaw[rb], 20.0)
    matched = 0
    for f in range(3):
        pos = Counter(code[(p.folds == f) & (p.labels == 1)].tolist())
        neg = Counter(code[(p.folds == f) & (p.labels == 0)].tolist())
        matched += sum((pos & neg).values())
        assert sum(neg.values()) == sum(pos.values())
    mining = res.stats["mining"]
    assert mining["source"] == "pose" and mining["band_matched"] <= matched
    assert mining["band_matched"] >= 0.9 * (p.labels == 0).sum()
    # the yaw gap no longer tells negatives from positives as it did (medians within a band)
    gap = np.abs(yaw[ra] - yaw[rb])
    assert abs(np.median(gap[p.labels == 1]) - np.median(gap[p.labels == 0])) < 20.0


def test_pose_negatives_do_not_depend_on_any_descriptor():
    """Pose mining takes no descriptors at all; mined negatives change with the mining model."""
    ids, labels, X, yaw = synthetic_faces()
    a = build_cross_pose_protocol(ids, labels, yaw, CFG).protocol
    b = build_cross_pose_protocol(ids, labels, yaw, CFG).protocol
    assert np.array_equal(a.a, b.a) and np.array_equal(a.b, b.b)
    m1 = build_cross_pose_protocol(ids, labels, yaw, MINED, mine_with=X).protocol
    m2 = build_cross_pose_protocol(ids, labels, yaw, MINED, mine_with=X[::-1].copy()).protocol
    neg1, neg2 = m1.labels == 0, m2.labels == 0
    assert set(zip(m1.a[neg1], m1.b[neg1])) != set(zip(m2.a[neg2], m2.b[neg2]))
