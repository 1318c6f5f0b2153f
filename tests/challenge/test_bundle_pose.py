"""The contest bundle keeps the landmarks and yaw of the descriptors, as the hackathon gave them."""

from __future__ import annotations

import numpy as np

from facemetric.challenge import ChallengeConfig, create_challenge
from facemetric.challenge.synthetic import synthetic_contest_data
from facemetric.io import load_descriptors
from facemetric.types import DescriptorSet


def _posed(ds: DescriptorSet, seed: int) -> DescriptorSet:
    rng = np.random.default_rng(seed)
    lm = rng.uniform(20, 90, size=(len(ds), 5, 2))
    return DescriptorSet(X=ds.X, X_flip=ds.X_flip, labels=ds.labels, ids=ds.ids, provenance=ds.provenance,
                         landmarks=lm, yaw=rng.uniform(-60, 60, size=len(ds)))


def test_bundle_keeps_pose(tmp_path):
    train, test, protocol = synthetic_contest_data(seed=0)
    train, test = _posed(train, 1), _posed(test, 2)
    created = create_challenge(train, test, protocol, tmp_path / "c", ChallengeConfig(max_upload_bytes=20_000))
    public = load_descriptors(created.bundle / "test.npz")
    answers = np.loadtxt(created.directory / "organiser" / "test_ids.csv", delimiter=",", dtype=str, skiprows=1)
    rows = test.index_of(answers[:, 1])  # anonymous id -> original image
    order = public.index_of(answers[:, 0])
    np.testing.assert_array_equal(public.yaw[order], test.yaw[rows].astype(np.float32))
    np.testing.assert_array_equal(public.landmarks[order], test.landmarks[rows].astype(np.float32))
    assert set(public.labels) == {""}
    bundled_train = load_descriptors(created.bundle / "train.npz")
    np.testing.assert_array_equal(bundled_train.yaw, train.yaw[train.index_of(bundled_train.ids)].astype(np.float32))
