"""The acceptance interface on a CFP-layout tree: `facemetric benchmark --train --test ROOT --format cfp-fp`
with the default grid, which holds the cross-pose methods with their transductive flags."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facemetric.cli.main import main
from facemetric.io import load_protocol, save_descriptors
from facemetric.io.protocols.cfp_write import save_cfp_fp
from facemetric.experiments.benchmark import default_specs
from facemetric.io.protocols.pose_split import PoseSplitConfig, build_pose_split

from facemetric.datasets.pose_simulation import posed_people

NEW = {"pose-plda": False, "pose-norm": False, "pose-fusion": False, "neural-pose": False, "as-norm:metric=\"plda\"": False,
       "plda-adapt": True, "coral": True, "pseudo-id": True, "pseudo-id:rerank=true": True,
       "k-reciprocal:metric=\"plda\"": True}


def test_default_grid_has_the_cross_pose_methods_and_not_the_slow_adapters():
    labels = {s.label: s.transductive for s in default_specs()}
    for name, transductive in NEW.items():
        assert labels[name] is transductive, name
    assert not {"ml-nca", "ml-lmnn", "ml-mlkr"} & set(labels)


def test_pose_split_writes_a_cfp_tree_that_reads_back(tmp_path):
    ds = posed_people(80, 8, seed=0, frontal_fraction=0.6)
    split = build_pose_split(ds, PoseSplitConfig(max_test_identities=30, n_folds=3, train_max_yaw=None))
    assert not set(split.train.labels) & set(split.test.labels)
    assert np.abs(split.test.yaw[split.test.index_of(split.protocol.a)]).max() <= 10
    assert np.abs(split.test.yaw[split.test.index_of(split.protocol.b)]).min() >= 25
    cfp_test = save_cfp_fp(split.protocol, split.test, tmp_path / "cfp")
    back = load_protocol(tmp_path / "cfp", format="cfp-fp")
    assert len(back) == len(split.protocol) and back.labels.sum() == split.protocol.labels.sum()
    genuine = back.labels == 1
    rows = cfp_test.index_of(back.images)
    lab = cfp_test.labels[rows]
    assert (lab[back.pairs[genuine, 0]] == lab[back.pairs[genuine, 1]]).all()
    assert (lab[back.pairs[~genuine, 0]] != lab[back.pairs[~genuine, 1]]).all()


@pytest.mark.slow
def test_benchmark_default_grid_on_a_cfp_tree(tmp_path):
    ds = posed_people(90, 8, seed=0, frontal_fraction=0.6)
    split = build_pose_split(ds, PoseSplitConfig(max_test_identities=30, n_folds=3, train_max_yaw=None))
    save_descriptors(split.train, tmp_path / "train.npz")
    save_descriptors(save_cfp_fp(split.protocol, split.test, tmp_path / "cfp"), tmp_path / "test.npz")
    out = tmp_path / "out"
    code = main(["benchmark", "--train", str(tmp_path / "train.npz"), "--test", str(tmp_path / "test.npz"),
                 str(tmp_path / "cfp"), "--format", "cfp-fp", "--out", str(out), "--n-bootstrap", "20",
                 "--no-plots", "--no-progress"])
    assert code == 0
    rows = json.loads((out / "benchmark.json").read_text())
    by_method = {r["method"]: r for r in rows}
    assert {s.label for s in default_specs()} <= set(by_method)
    for row in rows:
        assert {"method", "auc", "accuracy", "transductive"} <= set(row)
        assert row.get("error") is None, (row["method"], row.get("error"))
        assert 0.5 < row["auc"] <= 1.0 and row["fit_seconds"] >= 0 and len(row["fold_auc"]) == 3
    for name, transductive in NEW.items():
        assert by_method[name]["transductive"] is transductive


def test_every_driver_mode_gives_pose_aware_metrics_the_yaw():
    """train/test and k-fold fit and score a pose-aware metric with the images' yaw, also when the
    identities come from the image folders (labels empty)."""
    from facemetric.experiments import identity_disjoint_kfold, train_test_scores
    from facemetric.experiments.driver import score_index_pairs
    from facemetric.metrics import make_metric

    ds = posed_people(90, 8, seed=0, frontal_fraction=0.6)
    split = build_pose_split(ds, PoseSplitConfig(max_test_identities=30, n_folds=3, train_max_yaw=None))
    train = split.train.with_labels(np.full(len(split.train), ""))  # identities from the folders
    ia, ib = split.protocol.resolve(split.test)
    direct = make_metric("pose-plda").fit_descriptors(split.train)
    want = score_index_pairs(direct, split.test.X, ia, ib, yaw=split.test.yaw)
    got = train_test_scores(lambda: make_metric("pose-plda"), train, split.test, split.protocol).scores
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    blind = train_test_scores(lambda: make_metric("plda"), train, split.test, split.protocol).scores
    assert np.abs(got - blind).max() > 1e-3
    both = split.test.with_labels(np.full(len(split.test), ""))
    kf = identity_disjoint_kfold(lambda: make_metric("pose-plda"), both, split.protocol).scores
    kf_blind = identity_disjoint_kfold(lambda: make_metric("plda"), both, split.protocol).scores
    assert np.abs(kf - kf_blind).max() > 1e-3
