"""``run_demo``: a whole contest on one descriptor set, played by the baselines and a learned metric.

Test images are those of the protocol; training uses only identities absent from every test
pair. A demo team plays like a participant: it reads the bundle, fits on ``train.npz``,
scores ``test_pairs.csv`` and submits CSV files through the same checks as the web server.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from facemetric.challenge.bundle import create_challenge
from facemetric.challenge.config import ChallengeConfig
from facemetric.challenge.contest import Contest
from facemetric.challenge.leaderboard import LeaderboardRow, leaderboard
from facemetric.challenge.submission import format_submission
from facemetric.errors import InputError
from facemetric.io import load_descriptors
from facemetric.types import DescriptorSet, PairProtocol

# The demo team submits each of these that exists: a projection learned from identities, then
# centring on the training mean (the strongest simple method on LFW); its best public one counts.
DEMO_METHODS = ("lda-wccn", "center")


def split_train_test(
    descriptors: DescriptorSet, protocol: PairProtocol
) -> tuple[DescriptorSet, DescriptorSet]:
    """Test = the protocol's images; train = every image of an identity that no test image shows."""
    test_rows = descriptors.index_of(protocol.images, source=protocol.name)
    test_people = set(descriptors.labels[test_rows].tolist())
    train_rows = np.flatnonzero(~np.isin(descriptors.labels, list(test_people)) & (descriptors.labels != ""))
    if train_rows.size == 0:
        raise InputError(
            "no identity is left for training once the test identities are removed; "
            "use a descriptor set with more people than the protocol"
        )
    return descriptors.subset(train_rows), descriptors.subset(test_rows)


def learned_methods() -> list[str]:
    """The methods of ``DEMO_METHODS`` that this installation offers."""
    from facemetric.metrics import METHODS

    return [name for name in DEMO_METHODS if name in METHODS]


def play(bundle: Path, method: str, flip: str) -> bytes:
    """What a participant would do with the bundle: fit ``method`` on train, score the test pairs."""
    from facemetric.metrics import make_metric

    train = load_descriptors(bundle / "train.npz").fused(flip)
    test = load_descriptors(bundle / "test.npz").fused(flip)
    with open(bundle / "test_pairs.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))[1:]
    pair_ids = np.array([r[0] for r in rows])
    ia = test.index_of([r[1] for r in rows], source="test_pairs.csv")
    ib = test.index_of([r[2] for r in rows], source="test_pairs.csv")
    metric = make_metric(method).fit(train.X, train.labels)
    return format_submission(pair_ids, metric.score_pairs(test.X, ia, ib))


def run_demo(
    descriptors: DescriptorSet,
    protocol: PairProtocol,
    out: str | Path,
    config: ChallengeConfig = ChallengeConfig(title="facemetric demo challenge"),
) -> list[LeaderboardRow]:
    """Create the contest in ``out``, submit, close it and return the final leaderboard."""
    train, test = split_train_test(descriptors, protocol)
    created = create_challenge(train, test, protocol, out, config)
    contest = Contest(created.directory)
    methods = learned_methods()
    if methods:
        team, _ = contest.store.add_team("learned: " + " / ".join(methods))
        for method in methods:
            contest.submit(team, play(created.bundle, method, contest.config.flip))
    contest.store.close()
    return leaderboard(contest.store, closed=True)


def format_table(rows: list[LeaderboardRow], *, private: bool = True) -> str:
    """The final table as the seed printed it: team, entries, public, private (left out before the close)."""
    width = max([len("team")] + [len(r.team) for r in rows])
    header = f"{'team':<{width}}  {'entries':>7}  {'public':>8}" + (f"  {'private':>8}" if private else "")
    lines = [header]
    for r in rows:
        line = f"{r.team:<{width}}  {r.entries:>7}  {'' if r.public is None else f'{r.public:.5f}':>8}"
        if private:
            line += f"  {'' if r.private is None else f'{r.private:.5f}':>8}"
        lines.append(line)
    return "\n".join(lines)
