"""Fixtures of the challenge tests: small synthetic contests, a real server, independent references."""

from __future__ import annotations

import csv
import io
import select
import socket
import time
from dataclasses import dataclass
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


@dataclass
class Exchange:
    """What a raw HTTP exchange gave: the server's bytes, how much body we sent, whether it closed."""

    response: bytes
    body_sent: int
    closed: bool

    @property
    def status(self) -> int:
        return int(self.response.split(b" ", 2)[1]) if self.response.startswith(b"HTTP/") else 0

    def json(self) -> dict:
        import json

        return json.loads(self.response.split(b"\r\n\r\n", 1)[1])

    def header(self, name: str) -> str | None:
        head = self.response.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
        values = [
            line.split(":", 1)[1].strip() for line in head if line.lower().startswith(name.lower() + ":")
        ]
        return values[0] if values else None


def raw_exchange(port: int, head: bytes, chunks=(), *, wait: float = 15.0) -> Exchange:
    """Send ``head`` then the body ``chunks`` on one connection, reading whatever the server says.

    Sending stops as soon as the server answers, closes, or stops reading for 5 s; then we wait up
    to ``wait`` seconds for an answer (a server that waits for more body gives none: status 0).
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=wait)
    sock.setblocking(False)
    state = {"response": b"", "sent": 0, "closed": False}

    def read_some(timeout: float) -> None:
        ready, _, _ = select.select([sock], [], [], timeout)
        if ready:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            except BlockingIOError:
                return
            state["response"] += data
            state["closed"] = state["closed"] or not data

    def send(data: bytes, *, count: bool) -> bool:
        """False when the server answered, closed or stopped reading."""
        view = memoryview(data)
        while view:
            readable, writable, _ = select.select([sock], [sock], [], 5)
            if readable:
                read_some(0)
                if state["response"] or state["closed"]:
                    return False
            if not readable and not writable:
                return False
            if writable:
                try:
                    n = sock.send(view)
                except (BrokenPipeError, ConnectionResetError):
                    state["closed"] = True
                    return False
                view = view[n:]
                state["sent"] += n if count else 0
        return True

    try:
        if send(head, count=False):
            for chunk in chunks:
                if not send(chunk, count=True):
                    break
        deadline = time.monotonic() + wait
        while not state["closed"] and time.monotonic() < deadline:
            read_some(min(0.2, max(deadline - time.monotonic(), 0)))
            if _complete(state["response"]):
                read_some(1.0)  # a close right after the answer
                break
    finally:
        sock.close()
    return Exchange(state["response"], state["sent"], state["closed"])


def _complete(response: bytes) -> bool:
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def post_head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart(data: bytes, *, field: str = "file", boundary: str = "fmcboundary") -> tuple[bytes, str]:
    """A multipart body holding ``data`` as a file upload, and its Content-Type."""
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="s.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def chunked(parts) -> list[bytes]:
    """``Transfer-Encoding: chunked`` framing of ``parts`` (the last, empty chunk included)."""
    return [b"%x\r\n" % len(p) + p + b"\r\n" for p in parts] + [b"0\r\n\r\n"]


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
        raw_exchange=raw_exchange,
        post_head=post_head,
        multipart=multipart,
        chunked=chunked,
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
