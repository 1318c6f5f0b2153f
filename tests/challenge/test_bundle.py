"""create_challenge: bundle without answers, anonymous ids, stratified split, baselines scored right."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facemetric.challenge import ChallengeConfig, Contest, create_challenge, leaderboard
from facemetric.errors import ConfigError, InputError, ProtocolError
from facemetric.io import load_descriptors


def test_bundle_layout_and_no_leak(make_contest, contest_data, helpers):
    directory, admin = make_contest(seed=3)
    train, test, protocol = contest_data
    bundle = directory / "bundle"
    assert sorted(p.name for p in bundle.iterdir()) == [
        "README.md",
        "sample_submission.csv",
        "test.npz",
        "test_pairs.csv",
        "train.npz",
    ]
    sample = helpers.read_csv(bundle / "sample_submission.csv")
    pairs = helpers.read_csv(bundle / "test_pairs.csv")
    assert sample[0] == ["pair_id", "score"] and pairs[0] == ["pair_id", "a", "b"]
    assert [r[0] for r in sample[1:]] == [r[0] for r in pairs[1:]]
    assert len(pairs) - 1 == len(protocol)
    t = load_descriptors(bundle / "test.npz")
    assert set(t.labels) == {""}  # no identities
    assert not set(t.ids) & set(test.ids)  # anonymous ids, no file names
    assert {r[1] for r in pairs[1:]} | {r[2] for r in pairs[1:]} <= set(t.ids)
    tr = load_descriptors(bundle / "train.npz")
    assert sorted(zip(tr.ids, tr.labels)) == sorted(zip(train.ids, train.labels)) and tr.X_flip is not None
    assert not np.array_equal(tr.ids, train.ids)  # the training rows are shuffled too
    by_id = {i: k for k, i in enumerate(train.ids)}
    assert np.array_equal(tr.X, train.X[[by_id[i] for i in tr.ids]])
    for name in ("test_pairs.csv", "sample_submission.csv", "README.md"):
        assert "label" not in helpers.read_csv(bundle / name)[0]
    # The pairs are shuffled: the labels in the organiser answers are not sorted any more.
    answers = helpers.read_csv(directory / "organiser" / "answers.csv")
    labels = np.array([int(r[1]) for r in answers[1:]])
    assert 0 < np.abs(np.diff(labels)).sum() > 20
    public = np.array([r[2] == "public" for r in answers[1:]])
    assert labels[public].sum() == round(0.3 * labels.sum())
    assert public.sum() == round(0.3 * labels.sum()) + round(0.3 * (1 - labels).sum())
    config = json.loads((directory / "challenge.json").read_text())
    assert config["metric"] == "auc" and config["seed"] == 3 and config["n_pairs"] == len(protocol)
    assert admin.startswith("fmc_")


def test_answers_map_back_to_the_original_pairs(make_contest, contest_data, helpers):
    directory, _ = make_contest(seed=5)
    _, test, protocol = contest_data
    ids = {r[0]: r[1] for r in helpers.read_csv(directory / "organiser" / "test_ids.csv")[1:]}
    truth = {frozenset(p): int(y) for p, y in zip(zip(protocol.a, protocol.b), protocol.labels)}
    pairs = helpers.read_csv(directory / "bundle" / "test_pairs.csv")[1:]
    answers = {r[0]: int(r[1]) for r in helpers.read_csv(directory / "organiser" / "answers.csv")[1:]}
    for pid, a, b in pairs:
        assert truth[frozenset((ids[a], ids[b]))] == answers[pid]


def test_baselines_are_entered_and_scored_like_sklearn(make_contest, contest_data, helpers):
    directory, _ = make_contest()
    _, test, _ = contest_data
    rows = {r.team: r for r in leaderboard(Contest(directory).store)}
    assert set(rows) == {"baseline: L2", "baseline: cosine"}
    assert all(r.baseline and r.rank is None and r.entries == 1 for r in rows.values())
    # Recompute the cosine baseline by hand from the bundle, with flip sum.
    t = load_descriptors(directory / "bundle" / "test.npz")
    X = t.X + t.X_flip
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    index = {i: k for k, i in enumerate(t.ids)}
    pairs = helpers.read_csv(directory / "bundle" / "test_pairs.csv")[1:]
    cos = [float(X[index[a]] @ X[index[b]]) for _, a, b in pairs]
    data = ("pair_id,score\n" + "".join(f"{p[0]},{c!r}\n" for p, c in zip(pairs, cos))).encode()
    public, _ = helpers.reference_scores(directory, data)
    assert rows["baseline: cosine"].public == pytest.approx(public, abs=1e-6)
    assert rows["baseline: cosine"].public > rows["baseline: L2"].public - 0.05


def test_refuses_overlapping_train_and_test(contest_data, tmp_path):
    train, test, protocol = contest_data
    with pytest.raises(InputError, match="also in the training set") as shared:
        create_challenge(test, test, protocol, tmp_path / "c")
    clash = type(train)(X=train.X[:6], labels=test.labels[:6], ids=train.ids[:6])
    with pytest.raises(InputError, match="appear in both training and test") as people:
        create_challenge(clash, test, protocol, tmp_path / "c")
    for error in (shared, people):  # plain quoted names, never numpy reprs
        assert "np.str_" not in str(error.value)
    assert not (tmp_path / "c").exists()


def test_refuses_non_empty_folder_unlabelled_pairs_and_tiny_limit(contest_data, tmp_path):
    train, test, protocol = contest_data
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(ConfigError, match="already exists and is not empty"):
        create_challenge(train, test, protocol, tmp_path / "busy")
    with pytest.raises(ProtocolError, match="no labels"):
        create_challenge(train, test, protocol.without_labels(), tmp_path / "c")
    with pytest.raises(ConfigError, match="too small for 300 pairs"):
        create_challenge(train, test, protocol, tmp_path / "c", ChallengeConfig(max_upload_bytes=1000))
    with pytest.raises(ConfigError, match="cannot measure FAR"):
        create_challenge(train, test, protocol, tmp_path / "c", ChallengeConfig(metric="tar@far=1e-4"))
    assert not (tmp_path / "c").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["busy"]  # no temporary folder left behind
