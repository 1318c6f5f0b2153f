"""Identity labels implied by image ids, and label checks against a protocol's identities."""

import numpy as np
import pytest

from facemetric.identity import (
    disagreeing,
    identities_from_ids,
    identity_from_id,
    image_identities,
    label_disagreements,
    pair_identities,
)
from facemetric.types import DescriptorSet, PairProtocol


@pytest.mark.parametrize(
    ("image_id", "depth", "expected"),
    [
        ("Aaron_Peirsol/Aaron_Peirsol_0001.jpg", None, "Aaron_Peirsol"),
        ("Aaron_Peirsol/Aaron_Peirsol_0001.jpg", 0, "Aaron_Peirsol"),
        ("Data/Images/001/frontal/01.jpg", 2, "001"),
        ("Data/Images/001/frontal/01.jpg", None, "001"),  # CFP
        ("lfw/Aaron_Peirsol/Aaron_Peirsol_0001.jpg", None, "Aaron_Peirsol"),
        ("casia/0000045/001.jpg", None, "casia"),
        ("Data/Images/001/frontal/01.jpg", 7, ""),
        ("Aaron_Peirsol_1.jpg", None, "Aaron_Peirsol"),  # CPLFW / CALFW flat names
        ("Aaron_Peirsol_12.png", 0, "Aaron_Peirsol"),
        ("portrait.jpg", None, ""),
        ("_3.jpg", None, ""),
    ],
)
def test_identity_from_id(image_id, depth, expected):
    assert identity_from_id(image_id, depth) == expected


@pytest.mark.parametrize(
    ("ids", "expected", "rule"),
    [
        # CFP: the person folder, frontal and profile alike, wherever the root is
        (["Data/Images/001/frontal/01.jpg", "Data/Images/001/profile/02.jpg", "Data/Images/002/frontal/01.jpg"],
         ["001", "001", "002"], "cfp"),
        (["cfp/Data/Images/007/profile/01.jpg"], ["007"], "cfp"),
        # LFW, also one level down
        (["lfw/Ann/Ann_0001.jpg", "lfw/Bob/Bob_0002.jpg"], ["Ann", "Bob"], "lfw"),
        # a generic tree: the first folder level that differs, past a shared top folder
        (["images/0001/a.jpg", "images/0002/b.jpg"], ["0001", "0002"], "folder depth 1"),
        (["0001/a.jpg", "0002/b.jpg"], ["0001", "0002"], "folder depth 0"),
        (["Ann_3.jpg", "Bob_12.jpg"], ["Ann", "Bob"], "numbered-files"),
    ],
)
def test_identities_from_known_layouts(ids, expected, rule):
    got, how = identities_from_ids(ids)
    assert got.tolist() == expected and how == rule


def test_identities_at_a_given_depth():
    got, how = identities_from_ids(["Data/Images/001/frontal/01.jpg"], depth=0)
    assert got.tolist() == ["Data"] and how == "folder depth 0"


def test_disagreement_allows_renaming_and_catches_collapse():
    stated = ["A", "A", "B", "C"]
    assert not disagreeing(stated, ["x", "x", "y", "z"]).any()  # a consistent renaming agrees
    assert disagreeing(stated, ["Data"] * 4).all()  # everyone in one folder
    assert disagreeing(stated, ["x", "y", "z", "w"]).tolist() == [True, True, False, False]  # A split in two


def test_protocol_identities_come_first_then_descriptors_then_paths():
    p = PairProtocol.from_id_pairs(["Data/Images/001/frontal/01.jpg", "x/1.jpg"],
                                   ["Data/Images/002/profile/01.jpg", "y/2.jpg"], labels=[0, 0])
    ds = DescriptorSet(X=np.zeros((2, 2)), labels=["Data", "X"], ids=["Data/Images/001/frontal/01.jpg", "x/1.jpg"])
    # no protocol identities: labels where a descriptor exists, the path's layout elsewhere
    assert image_identities(p, ds).tolist() == ["Data", "002", "X", "y"]
    stated = PairProtocol(images=p.images, pairs=p.pairs, labels=p.labels, identities=["001", "002", "", ""])
    ia, ib = pair_identities(stated, ds)
    assert ia.tolist() == ["001", "X"] and ib.tolist() == ["002", "y"]
    assert label_disagreements(stated, ds)[0] == 0  # one image compared: nothing to disagree with
    two = DescriptorSet(X=np.zeros((3, 2)), labels=["Data"] * 3,
                        ids=["Data/Images/001/frontal/01.jpg", "Data/Images/002/profile/01.jpg", "x/1.jpg"])
    n_bad, n, example = label_disagreements(stated, two)
    assert (n_bad, n) == (2, 2) and "is labelled 'Data', the protocol says '001'" in example


def test_with_identities_keeps_flips_landmarks_and_yaw():
    import numpy as np
    from facemetric.identity import with_identities
    from facemetric.types import DescriptorSet

    rng = np.random.default_rng(0)
    ds = DescriptorSet(X=rng.normal(size=(4, 3)), X_flip=rng.normal(size=(4, 3)), labels=[""] * 4,
                       ids=["a/a_1.jpg", "a/a_2.jpg", "b/b_1.jpg", "b/b_2.jpg"],
                       landmarks=rng.normal(size=(4, 5, 2)), yaw=[0.0, 30.0, np.nan, -10.0])
    out = with_identities(ds)
    assert out.labels.tolist() == ["a", "a", "b", "b"]
    for key in ("X_flip", "landmarks", "yaw"):
        np.testing.assert_array_equal(getattr(out, key), getattr(ds, key))
