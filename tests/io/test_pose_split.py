"""The frontal-to-turned split: disjoint people, pose bands, negatives from the pose or another model, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facemetric.cli.main import main
from facemetric.errors import InputError
from facemetric.io import load_descriptors, load_protocol, save_descriptors
from facemetric.datasets.pose_simulation import posed_people
from facemetric.io.protocols.pose_split import PoseSplitConfig, build_pose_split
from facemetric.types import Provenance

CONFIG = PoseSplitConfig(max_test_identities=40, n_folds=4)


@pytest.fixture(scope="module")
def people():
    ds = posed_people(120, 8, seed=0, frontal_fraction=0.6)
    return ds.__class__(X=ds.X, labels=ds.labels, ids=ds.ids, yaw=ds.yaw, provenance=Provenance(backbone="A"))


def test_split_structure(people):
    split = build_pose_split(people, CONFIG)
    p = split.protocol
    assert not set(split.train.labels) & set(split.test.labels)
    assert np.abs(split.train.yaw).max() <= 20  # frontal training photos only
    test_yaw = np.abs(split.test.yaw[split.test.index_of(p.a)]), np.abs(split.test.yaw[split.test.index_of(p.b)])
    assert test_yaw[0].max() <= 10 and test_yaw[1].min() >= 25
    who = dict(zip(split.test.ids, split.test.labels))
    same = np.array([who[a] == who[b] for a, b in zip(p.a, p.b)])
    np.testing.assert_array_equal(same, p.labels == 1)
    for f in np.unique(p.folds):  # identity-disjoint folds
        others = set().union(*({who[a], who[b]} for a, b in zip(p.a[p.folds != f], p.b[p.folds != f])))
        mine = set().union(*({who[a], who[b]} for a, b in zip(p.a[p.folds == f], p.b[p.folds == f])))
        assert not mine & others
    again = build_pose_split(people, CONFIG)
    np.testing.assert_array_equal(again.protocol.pairs, p.pairs)  # seeded


def test_hard_negatives_come_from_the_other_model(people):
    rng = np.random.default_rng(5)
    other = people.__class__(X=people.X + 0.3 * rng.normal(size=people.X.shape), labels=people.labels,
                             ids=people.ids, provenance=Provenance(backbone="B"))
    hard = build_pose_split(people, CONFIG, miner=other)
    random = build_pose_split(people, CONFIG)

    def negative_similarity(split):
        p = split.protocol
        Z = other.X / np.linalg.norm(other.X, axis=1, keepdims=True)
        a, b = other.index_of(p.a[p.labels == 0]), other.index_of(p.b[p.labels == 0])
        return np.einsum("ij,ij->i", Z[a], Z[b]).mean()

    assert negative_similarity(hard) > negative_similarity(random) + 0.2
    assert "another model" in hard.stats["negatives"] and "pose only" in random.stats["negatives"]
    with pytest.raises(InputError, match="the hard-negative miner is the model under test"):
        build_pose_split(people, CONFIG, miner=people)


def test_cli_writes_the_split_and_a_cfp_tree(people, tmp_path, capsys):
    save_descriptors(people, tmp_path / "d.npz")
    out = tmp_path / "split"
    assert main(["protocol", "pose-split", "-d", str(tmp_path / "d.npz"), "--max-test-identities", "40",
                 "--n-folds", "4", "--train-max-yaw", "none", "--cfp-layout", "--out", str(out)]) == 0
    summary = json.loads((out / "split.json").read_text())
    assert summary["config"]["train_max_yaw"] is None and summary["test_identities"] == 40
    assert len(load_protocol(out / "pairs.csv")) == len(load_protocol(out / "cfp", format="cfp-fp"))
    assert load_descriptors(out / "test.npz").yaw is not None
    bare = people.__class__(X=people.X, labels=people.labels, ids=people.ids)
    save_descriptors(bare, tmp_path / "bare.npz")
    assert main(["protocol", "pose-split", "-d", str(tmp_path / "bare.npz"), "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "needs a yaw estimate per image" in err and "Traceback" not in err


def test_bad_settings_are_refused_naming_the_parameter():
    from facemetric.errors import ConfigError

    with pytest.raises(ConfigError, match="'n_folds' parameter of the pose split must be an int >= 2"):
        PoseSplitConfig(n_folds=1)
    with pytest.raises(ConfigError, match="frontal_max_yaw < turned_min_yaw"):
        PoseSplitConfig(frontal_max_yaw=30, turned_min_yaw=25)
    with pytest.raises(ConfigError, match="'train_max_yaw' parameter of the pose split must be None or"):
        PoseSplitConfig(train_max_yaw=-1)
