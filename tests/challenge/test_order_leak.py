"""Finding 1: no order that a participant can see may carry the labels (real LFW contest, sklearn AUC).

In protocol order the rows of test.npz sat by person name, so ``-|row(a) - row(b)|`` scored the LFW
contest at AUC 1.000 without a descriptor. Every order of the bundle is now drawn from a secret seed;
each one is scored here as a participant would, from the bundle files alone.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.challenge import ChallengeConfig, create_challenge
from facemetric.challenge.demo import split_train_test
from facemetric.io import load_descriptors, load_protocol

SECRET = 20260501  # fixed, so that the test is deterministic; contests draw 128 fresh random bits


def read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))[1:]


def visible_orders(bundle) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Everything order-like in the bundle, as one score per test pair (pair id, order of the file)."""
    test = load_descriptors(bundle / "test.npz")
    row = {i: k for k, i in enumerate(test.ids.tolist())}
    pairs = read(bundle / "test_pairs.csv")
    ra = np.array([row[a] for _, a, _ in pairs])
    rb = np.array([row[b] for _, _, b in pairs])
    ida = np.array([int(a[1:]) for _, a, _ in pairs])
    idb = np.array([int(b[1:]) for _, _, b in pairs])
    return np.array([p for p, _, _ in pairs]), {
        "test rows: -|row(a) - row(b)|": -np.abs(ra - rb),
        "test rows: row(a) < row(b)": (ra < rb).astype(float),
        "test rows: first row of the pair": np.minimum(ra, rb).astype(float),
        "image ids: -|id(a) - id(b)|": -np.abs(ida - idb),
        "image ids: id(a) < id(b)": (ida < idb).astype(float),
        "pair ids: number": np.array([int(p[1:]) for p, _, _ in pairs], dtype=float),
        "file order: line of test_pairs.csv": np.arange(len(pairs), dtype=float),
        "file order: line of sample_submission.csv": np.array(
            [k for k, _ in enumerate(read(bundle / "sample_submission.csv"))], dtype=float
        ),
    }


def train_order_auc(bundle) -> tuple[float, int]:
    """AUC of -|row(a) - row(b)| for telling same-identity training pairs from different ones."""
    train = load_descriptors(bundle / "train.npz")
    labels = train.labels
    same = np.array(
        [
            (i, j)
            for name in np.unique(labels)
            for rows in [np.flatnonzero(labels == name)]
            for k, i in enumerate(rows)
            for j in rows[k + 1 :]
        ]
    )
    rng = np.random.default_rng(0)
    other = rng.integers(0, len(train), (50 * len(same), 2))
    other = other[labels[other[:, 0]] != labels[other[:, 1]]]
    pairs = np.r_[same, other]
    y = np.r_[np.ones(len(same)), np.zeros(len(other))]
    return float(roc_auc_score(y, -np.abs(pairs[:, 0] - pairs[:, 1]))), len(same)


@pytest.fixture(scope="module")
def lfw_contest(lfw_dir, tmp_path_factory):
    descriptors = load_descriptors(lfw_dir / "descriptors_mobilefacenet_112x96.npz")
    protocol = load_protocol(lfw_dir / "pairs.txt")
    train, test = split_train_test(descriptors, protocol)
    out = tmp_path_factory.mktemp("leak") / "lfw"
    create_challenge(train, test, protocol, out, ChallengeConfig(), secret_seed=SECRET)
    return out


@pytest.mark.shared
def test_every_participant_visible_order_is_uninformative_on_lfw(lfw_contest):
    answers = {r[0]: int(r[1]) for r in read(lfw_contest / "organiser" / "answers.csv")}
    pair_ids, orders = visible_orders(lfw_contest / "bundle")
    y = np.array([answers[p] for p in pair_ids])
    assert len(y) == 6000 and y.sum() == 3000
    aucs = {name: float(roc_auc_score(y, score)) for name, score in orders.items()}
    train_auc, n_same = train_order_auc(lfw_contest / "bundle")
    aucs["train rows: -|row(a) - row(b)| (same identity)"] = train_auc
    print("\n" + "\n".join(f"{name}: AUC {auc:.4f}" for name, auc in aucs.items()))
    assert n_same > 100
    leaks = {name: round(auc, 4) for name, auc in aucs.items() if abs(auc - 0.5) > 0.05}
    assert not leaks, f"orders that tell the labels: {leaks}"


@pytest.mark.shared
def test_the_secret_stays_with_the_organiser(lfw_contest):
    secret = json.loads((lfw_contest / "organiser" / "secret.json").read_text())
    assert secret["secret_seed"] == str(SECRET)
    for path in (lfw_contest / "bundle").iterdir():
        assert str(SECRET).encode() not in path.read_bytes()


def test_secret_draws_the_orders_and_seed_alone_does_not(contest_data, tmp_path):
    """Same secret and seed: the same bundle; another secret with the same public seed: other orders."""
    train, test, protocol = contest_data

    def bundle(name, secret):
        out = tmp_path / name
        create_challenge(train, test, protocol, out, ChallengeConfig(seed=0), secret_seed=secret)
        return read(out / "bundle" / "test_pairs.csv"), load_descriptors(out / "bundle" / "test.npz").X

    (pairs_a, X_a), (pairs_b, X_b), (pairs_c, X_c) = bundle("a", 1), bundle("b", 1), bundle("c", 2)
    assert pairs_a == pairs_b and np.array_equal(X_a, X_b)
    assert pairs_a != pairs_c and not np.array_equal(X_a, X_c)
    # A contest made without a secret draws one: two such contests differ although seed is 0 in both.
    create_challenge(train, test, protocol, tmp_path / "d", ChallengeConfig(seed=0))
    create_challenge(train, test, protocol, tmp_path / "e", ChallengeConfig(seed=0))
    assert read(tmp_path / "d" / "bundle" / "test_pairs.csv") != read(
        tmp_path / "e" / "bundle" / "test_pairs.csv"
    )
