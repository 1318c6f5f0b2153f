"""Fixtures of the challenge tests: small synthetic contests, a real server, independent references."""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def random_submission(directory: Path, seed: int) -> bytes:
    """A valid submission with random scores (pair order shuffled too)."""
    rows = read_csv(Path(directory) / "bundle" / "test_pairs.csv")[1:]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    lines = ["pair_id,score"] + [f"{rows[i][0]},{rng.standard_normal()!r}" for i in order]
    return ("\n".join(lines) + "\n").encode()


def cosine_submission(directory: Path, noise: float, seed: int) -> bytes:
    """Cosine scores of the bundle's test descriptors plus Gaussian noise: a plausible participant."""
    from facemetric.io import load_descriptors

    test = load_descriptors(Path(directory) / "bundle" / "test.npz")
    X = test.X / np.linalg.norm(test.X, axis=1, keepdims=True)
    index = {i: k for k, i in enumerate(test.ids.tolist())}
    rng = np.random.default_rng(seed)
    lines = ["pair_id,score"]
    for pid, a, b in read_csv(Path(directory) / "bundle" / "test_pairs.csv")[1:]:
        lines.append(f"{pid},{float(X[index[a]] @ X[index[b]]) + noise * rng.standard_normal()!r}")
    return ("\n".join(lines) + "\n").encode()


@lru_cache(maxsize=None)
def read_answers(directory: Path) -> dict[str, tuple[int, str]]:
    return {r[0]: (int(r[1]), r[2]) for r in read_csv(Path(directory) / "organiser" / "answers.csv")[1:]}


def reference_scores(directory: Path, data: bytes) -> tuple[float, float]:
    """(public, private) AUC of a submission, computed independently with sklearn.

    The public one is rounded to 5 decimals, as the server must show it (never more precise).
    """
    answers = read_answers(Path(directory))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    out = []
    for split in ("public", "private"):
        y = [answers[pid][0] for pid, _ in rows if answers[pid][1] == split]
        s = [float(score) for pid, score in rows if answers[pid][1] == split]
        out.append(float(roc_auc_score(y, s)))
    return round(out[0], 5), out[1]


@pytest.fixture(scope="session")
def contest_data():
    from facemetric.challenge.synthetic import synthetic_contest_data

    return synthetic_contest_data(seed=0)


@pytest.fixture(scope="session")
def make_contest(contest_data, tmp_path_factory):
    """``make_contest(**settings) -> (directory, admin_token)``: a fresh synthetic contest."""
    from facemetric.challenge import ChallengeConfig, create_challenge

    def make(**settings):
        train, test, protocol = contest_data
        settings.setdefault("max_upload_bytes", 20_000)
        out = tmp_path_factory.mktemp("contest") / "contest"
        created = create_challenge(train, test, protocol, out, ChallengeConfig(**settings))
        return created.directory, created.admin_token

    return make


@pytest.fixture(scope="session")
def helpers():
    return SimpleNamespace(
        random_submission=random_submission,
        cosine_submission=cosine_submission,
        reference_scores=reference_scores,
        read_csv=read_csv,
    )


@pytest.fixture(scope="module")
def live_contest(make_contest):
    """A synthetic contest (3 submissions a day) served by a real uvicorn process on a free port."""
    from facemetric.challenge.process import ServerProcess, free_port

    directory, admin = make_contest(daily_limit=3, title="Live test contest")
    with ServerProcess(directory, free_port()) as server:
        yield SimpleNamespace(directory=directory, admin=admin, url=server.url, server=server)


@pytest.fixture
def add_team(live_contest):
    """``add_team(name) -> token`` through the CLI, as an organiser would (the server keeps running)."""
    from facemetric.cli.main import main

    def add(name: str) -> str:
        import contextlib
        import io as _io

        buf = _io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["challenge", "team", "add", str(live_contest.directory), name]) == 0
        return buf.getvalue().strip().splitlines()[-1]

    return add
