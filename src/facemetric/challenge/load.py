"""A load generator for a running contest server: many concurrent submissions, every answer kept,
and a keep-alive GET loop for the leaderboard.

Used by the load and fault tests and by ``benchmarks/bench_challenge.py``; an organiser can
use it to check a host before the contest opens.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Job:
    """One submission to send: whose token, the file bytes, and an optional ``Idempotency-Key``.

    A job sent again with the same key (after a lost answer) is stored and counted once.
    """

    token: str
    data: bytes
    key: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Answer:
    """What the server said: HTTP status and JSON body, or the connection error (status 0)."""

    job: Job
    status: int
    body: dict = field(default_factory=dict)
    error: str = ""
    received_at: float = 0.0  # time.time() when the answer (or the error) came


@dataclass(frozen=True)
class LoadResult:
    answers: list[Answer]
    seconds: float

    def accepted(self) -> list[Answer]:
        return [a for a in self.answers if a.status == 200]

    def throughput(self) -> float:
        """Accepted submissions per second of wall time."""
        return len(self.accepted()) / self.seconds if self.seconds > 0 else float("nan")


async def _send_all(
    url: str, jobs: list[Job], timeout: float, on_answer: Callable[[Answer], None] | None
) -> list[Answer]:
    import httpx

    limits = httpx.Limits(max_connections=len(jobs), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:

        async def one(job: Job) -> Answer:
            try:
                headers = {"Authorization": f"Bearer {job.token}"}
                if job.key is not None:
                    headers["Idempotency-Key"] = job.key
                r = await client.post(
                    "/api/submissions",
                    headers=headers,
                    files={"file": ("submission.csv", job.data, "text/csv")},
                )
                try:
                    body = r.json()
                except ValueError:
                    body = {"detail": r.text[:200]}
                answer = Answer(job, r.status_code, body, received_at=time.time())
            except httpx.HTTPError as exc:
                answer = Answer(job, 0, error=f"{type(exc).__name__}: {exc}", received_at=time.time())
            if on_answer is not None:
                on_answer(answer)
            return answer

        return list(await asyncio.gather(*(one(job) for job in jobs)))


def run_load(
    url: str, jobs: list[Job], *, timeout: float = 120.0, on_answer: Callable[[Answer], None] | None = None
) -> LoadResult:
    """Send every job at once (one connection each) and wait for all answers."""
    start = time.perf_counter()
    answers = asyncio.run(_send_all(url, jobs, timeout, on_answer))
    return LoadResult(answers=answers, seconds=time.perf_counter() - start)


async def _get_loop(host: str, port: int, path: str, connections: int, seconds: float) -> tuple[int, int]:
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    stop = time.perf_counter() + seconds
    counts = [0, 0]  # answers 200, others

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                counts[0 if head.startswith(b"HTTP/1.1 200") else 1] += 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return counts[0], counts[1]


def run_gets(url: str, path: str, *, connections: int = 8, seconds: float = 5.0) -> tuple[float, int]:
    """GET ``path`` over ``connections`` keep-alive connections for ``seconds``: (200s per second, others)."""
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    start = time.perf_counter()
    ok, other = asyncio.run(_get_loop(host, int(port), path, connections, seconds))
    return ok / (time.perf_counter() - start), other


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def audit(store, result: LoadResult) -> list[str]:
    """What went wrong in the store, judged against the answers the clients received.

    Every accepted (HTTP 200) submission must be stored exactly once, under its id, with the
    bytes that were sent; no stored row may lack its file; SQLite's integrity check must pass.
    """
    problems = list(store.integrity_problems())
    stored = {s.id: s for s in store.submissions()}
    ids = [a.body.get("id") for a in result.accepted()]
    if len(set(ids)) != len(ids):
        problems.append(f"{len(ids) - len(set(ids))} submission id(s) were given twice")
    for answer in result.accepted():
        sub = stored.get(answer.body.get("id"))
        if sub is None:
            problems.append(f"accepted submission {answer.body.get('id')} is not stored")
        elif sub.sha256 != answer.job.sha256 or sub.public_score != answer.body.get("public_score"):
            problems.append(f"submission {sub.id} is stored with other bytes or another public score")
    return problems
