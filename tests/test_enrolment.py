"""Failures to enrol: pairs with an image that has no descriptor, under reject, drop and error,
in evaluate, benchmark (k-fold and train/test), score and challenge create; against sklearn."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.enrolment import find_missing, floor_score, reject_scores, scorable_pairs
from facemetric.errors import ConfigError, InputError
from facemetric.experiments import MethodSpec, evaluate_protocol, fit_metric, run_benchmark, score_with_model
from facemetric.types import DescriptorSet, PairProtocol, Provenance


def people(n_ids=40, per=4, dim=12, seed=0, prefix="id"):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(n_ids, dim))
    X = np.repeat(means, per, axis=0) + 0.7 * rng.normal(size=(n_ids * per, dim))
    labels = np.repeat([f"{prefix}{i:03d}" for i in range(n_ids)], per)
    ids = [f"{lab}/{lab}_{k % per + 1:04d}.jpg" for k, lab in enumerate(labels)]
    return DescriptorSet(X=X.astype(np.float32), labels=labels, ids=ids, provenance=Provenance(backbone="toy"))


def pairs_of(ds, n_folds=4, seed=0, n_ids=40):
    """Identity-disjoint folds over the first ``n_ids`` identities: per identity one matched pair and one
    mismatched pair with its neighbour."""
    rng = np.random.default_rng(seed)
    names = sorted(set(ds.labels.tolist()))[:n_ids]
    groups = np.array_split(np.array(names), n_folds)
    a, b, y, f = [], [], [], []
    for k, group in enumerate(groups):
        for i, name in enumerate(group):
            other = group[(i + 1) % len(group)]
            j = rng.permutation(4)[:2] + 1
            a += [f"{name}/{name}_{j[0]:04d}.jpg", f"{name}/{name}_{j[1]:04d}.jpg"]
            b += [f"{name}/{name}_{j[1]:04d}.jpg", f"{other}/{other}_0001.jpg"]
            y += [1, 0]
            f += [k, k]
    return PairProtocol.from_id_pairs(a, b, labels=y, folds=f, name="toy",
                                      pair_ids=[f"p{i:03d}" for i in range(len(a))])


GONE = ["id000/id000_0001.jpg", "id005/id005_0003.jpg", "id031/id031_0001.jpg"]


@pytest.fixture
def data():
    full = people(n_ids=60)  # 20 identities outside the protocol, to fit on
    protocol = pairs_of(full)
    keep = np.flatnonzero(~np.isin(full.ids, GONE))
    return full, full.subset(keep), protocol


def brute_auc_with_rejections(labels, scores, rejected):
    """AUC where a rejected pair scores below every real one (ties among rejected pairs count half)."""
    s = np.where(rejected, -1e12, scores)
    return roc_auc_score(labels, s)


def test_find_missing_counts_pairs_images_and_the_fte_rate(data):
    full, cut, protocol = data
    absent = find_missing(protocol, cut)
    expected = np.isin(protocol.a, GONE) | np.isin(protocol.b, GONE)
    assert absent.pairs.tolist() == expected.tolist() and absent.n_pairs == int(expected.sum()) > 0
    assert absent.images.tolist() == sorted(GONE) and absent.n_images == 3
    used = np.unique(np.concatenate([protocol.a, protocol.b]))
    assert absent.n_protocol_images == used.size and absent.fte_rate == pytest.approx(3 / used.size)
    assert absent.to_dict()["pairs"] == protocol.pair_ids[expected].tolist()
    assert "3 of" in absent.summary() and "counted as rejections" in absent.summary()
    assert find_missing(protocol, full).n_pairs == 0 and find_missing(protocol, full).summary() == ""
    with pytest.raises(InputError, match=r"toy: pair p000: image 'id000/id000_0001.jpg' has no descriptor \(3 of the 99 images.*--missing reject"):
        find_missing(protocol, cut, "error")
    with pytest.raises(ConfigError, match="'missing' parameter must be one of reject, drop, error"):
        find_missing(protocol, cut, "ignore")
    with pytest.raises(InputError, match="each of its"):
        find_missing(protocol, people(prefix="zz"))
    assert len(scorable_pairs(protocol, absent)) == len(protocol) - absent.n_pairs


def test_rejected_pairs_score_below_every_real_score(data):
    full, cut, protocol = data
    absent = find_missing(protocol, cut)
    scored = np.random.default_rng(1).normal(size=len(protocol) - absent.n_pairs)
    out = reject_scores(scored, absent)
    assert np.array_equal(out[~absent.pairs], scored)
    assert (out[absent.pairs] < scored.min()).all() and np.isfinite(out).all()
    assert floor_score(np.array([2.0, 2.0])) == 1.0 and floor_score(np.array([])) == 0.0


@pytest.mark.parametrize("method", ["cosine", "center"])
def test_evaluate_rejects_drops_or_refuses(data, method):
    full, cut, protocol = data
    absent = find_missing(protocol, cut)
    run = evaluate_protocol(cut, protocol, method=method, flip="none", n_bootstrap=0)
    assert run.result.n_pairs == len(protocol) and run.rejected.tolist() == absent.pairs.tolist()
    # the same figures as sklearn with those pairs at the bottom
    whole = evaluate_protocol(full, protocol, method=method, flip="none", n_bootstrap=0)
    if method == "cosine":  # the other pairs score as with every descriptor present
        np.testing.assert_allclose(run.scores[~absent.pairs], whole.scores[~absent.pairs], rtol=1e-6)
    assert run.result.auc == pytest.approx(brute_auc_with_rejections(protocol.labels, run.scores, absent.pairs))
    assert run.result.auc < whole.result.auc or method != "cosine"
    report = run.report()
    assert report["n_pairs"] == len(protocol) and report["n_missing_pairs"] == absent.n_pairs
    assert report["missing_policy"] == "reject" and report["missing"]["images"] == sorted(GONE)
    scores = report["pairs"]["score"]
    assert [s is None for s in scores] == absent.pairs.tolist()
    assert report["pairs"]["a"] == protocol.a.tolist()  # pairs name the image ids
    assert any("have no descriptor" in n for n in run.notes)
    dropped = evaluate_protocol(cut, protocol, method=method, flip="none", n_bootstrap=0, missing="drop")
    kept = ~absent.pairs
    assert dropped.result.n_pairs == int(kept.sum()) and dropped.rejected is None
    assert dropped.result.auc == pytest.approx(roc_auc_score(protocol.labels[kept], dropped.scores))
    assert dropped.report()["n_missing_pairs"] == absent.n_pairs and dropped.report()["missing_policy"] == "drop"
    with pytest.raises(InputError, match="has no descriptor"):
        evaluate_protocol(cut, protocol, method=method, flip="none", n_bootstrap=0, missing="error")


@pytest.mark.parametrize("with_train", [False, True])
def test_benchmark_applies_one_policy_to_every_method(data, with_train):
    full, cut, protocol = data
    train = people(n_ids=30, seed=5, prefix="tr") if with_train else None
    absent = find_missing(protocol, cut)
    specs = [MethodSpec("center"), MethodSpec("lda", {"n_components": 4})]
    run = run_benchmark(specs, cut, protocol, train=train, n_bootstrap=0)
    assert run.missing.n_pairs == absent.n_pairs
    for label, ps in run.scores.items():
        assert ps.scores.size == len(protocol) and ps.rejected.tolist() == absent.pairs.tolist(), label
        real = ps.scores[~absent.pairs]
        assert (ps.scores[absent.pairs] < real.min()).all()
        row = next(r for r in run.rows if r["method"] == label)
        assert row["n_pairs"] == len(protocol)
        assert row["auc"] == pytest.approx(brute_auc_with_rejections(protocol.labels, ps.scores, absent.pairs))
        assert row["mode"] == ("train-test" if with_train else "kfold")
    dropped = run_benchmark(specs, cut, protocol, train=train, n_bootstrap=0, missing="drop")
    assert all(r["n_pairs"] == len(protocol) - absent.n_pairs for r in dropped.rows)
    with pytest.raises(InputError, match="has no descriptor"):
        run_benchmark(specs, cut, protocol, train=train, n_bootstrap=0, missing="error")


def test_score_with_a_fitted_model(data):
    full, cut, protocol = data
    metric = fit_metric(people(n_ids=30, seed=5, prefix="tr"), MethodSpec("center"))
    absent = find_missing(protocol, cut)
    rejected = score_with_model(metric, cut, protocol)
    whole = score_with_model(metric, full, protocol)
    np.testing.assert_allclose(rejected[~absent.pairs], whole[~absent.pairs], rtol=1e-6)
    assert (rejected[absent.pairs] < rejected[~absent.pairs].min()).all()
    dropped = score_with_model(metric, cut, protocol, missing="drop")
    assert np.isnan(dropped[absent.pairs]).all() and np.isfinite(dropped[~absent.pairs]).all()
    with pytest.raises(InputError, match="has no descriptor"):
        score_with_model(metric, cut, protocol, missing="error")


def test_challenge_keeps_rejected_pairs_out_of_the_bundle_and_in_the_score(data, tmp_path):
    from facemetric.challenge import ChallengeConfig, Contest, create_challenge
    from facemetric.challenge.submission import format_submission
    from facemetric.io import load_descriptors

    full, cut, protocol = data
    train = people(n_ids=30, seed=5, prefix="tr")
    absent = find_missing(protocol, cut)
    created = create_challenge(train, cut, protocol, tmp_path / "c", ChallengeConfig(max_upload_bytes=50_000))
    assert created.missing.n_pairs == absent.n_pairs and created.n_pairs == len(protocol)
    with open(tmp_path / "c" / "bundle" / "test_pairs.csv", newline="") as fh:
        shown = list(csv.DictReader(fh))
    assert len(shown) == len(protocol) - absent.n_pairs
    assert f"{absent.n_pairs} more pair(s)" in (tmp_path / "c" / "bundle" / "README.md").read_text()
    with open(tmp_path / "c" / "organiser" / "answers.csv", newline="") as fh:
        answers = list(csv.DictReader(fh))
    assert len(answers) == len(protocol) and sum(r["rejected"] == "1" for r in answers) == absent.n_pairs
    # a submission scores the shown pairs; the rejected ones count below every score it gives
    test = load_descriptors(tmp_path / "c" / "bundle" / "test.npz")
    Z = test.X / np.linalg.norm(test.X, axis=1, keepdims=True)
    row = {i: k for k, i in enumerate(test.ids.tolist())}
    scores = np.array([Z[row[r["a"]]] @ Z[row[r["b"]]] for r in shown])
    contest = Contest(tmp_path / "c")
    team, _ = contest.store.add_team("t")
    sub = contest.submit(team, format_submission([r["pair_id"] for r in shown], scores))
    by_pair = dict(zip([r["pair_id"] for r in shown], scores))
    for split, got in (("public", sub.public_score), ("private", sub.private_score)):
        rows = [r for r in answers if r["split"] == split]
        y = [int(r["label"]) for r in rows]
        s = [by_pair.get(r["pair_id"], -1e12) for r in rows]
        assert got == pytest.approx(roc_auc_score(y, s), abs=1e-5 if split == "public" else 1e-12)
    contest.store.disconnect()
    dropped = create_challenge(train, cut, protocol, tmp_path / "d", ChallengeConfig(max_upload_bytes=50_000),
                               missing="drop")
    assert dropped.n_pairs == len(protocol) - absent.n_pairs
    with pytest.raises(InputError, match="has no descriptor"):
        create_challenge(train, cut, protocol, tmp_path / "e", missing="error")
