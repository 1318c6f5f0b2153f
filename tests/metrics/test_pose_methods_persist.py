"""Every cross-pose method saves and loads (model.json + arrays.npz) and scores the same afterwards."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.metrics import make_metric
from facemetric.metrics.persist import load_model
from facemetric.datasets.pose_simulation import cross_pose_pairs, posed_people
from facemetric.experiments.driver import score_index_pairs

NAMES = ["pseudo-id", "plda-adapt", "coral", "pose-norm", "pose-fusion", "pose-plda", "neural-pose"]


@pytest.fixture(scope="module")
def data():
    train, test = posed_people(60, 6, seed=1, prefix="tr"), posed_people(20, 6, seed=2, prefix="te")
    ia, ib, _ = cross_pose_pairs(test, 100)
    return train, test, ia, ib


@pytest.mark.parametrize("name", NAMES)
def test_save_load_same_scores(name, data, tmp_path):
    if name == "neural-pose":
        pytest.importorskip("torch")
    train, test, ia, ib = data
    params = {"progress": False, "max_epochs": 2, "device": "cpu"} if name == "neural-pose" else {}
    metric = make_metric(name, **params).fit_descriptors(train)
    back = load_model(metric.save(tmp_path / name))
    np.testing.assert_allclose(score_posed(back, test.unlabelled(), ia, ib),
                               score_posed(metric, test.unlabelled(), ia, ib), rtol=1e-6, atol=1e-6)


def score_posed(metric, ds, ia, ib):
    """Scores as the experiment driver computes them: descriptors and yaw only, never labels."""
    return score_index_pairs(metric, ds.X, ia, ib, yaw=ds.yaw)
