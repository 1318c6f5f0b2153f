"""Finding 4: refuse cheaply first (before reading, parsing or scoring a file), and a per-team rate limit.

Each refusal is asked for with the headers and only the first bytes of the body: the server must
answer without waiting for the rest. (The old server read, parsed and scored the file first.)
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from facemetric.challenge import Contest
from facemetric.challenge.process import ServerProcess, free_port
from facemetric.cli.main import main

RATE, BURST = 0.5, 3


@pytest.fixture(scope="module")
def server(make_contest):
    directory, _ = make_contest(daily_limit=2)
    args = ["--team-rate", str(RATE), "--team-burst", str(BURST)]
    with ServerProcess(directory, free_port(), serve_args=args) as srv:
        yield srv, directory


def partial_upload(helpers, srv, directory, headers: dict) -> object:
    """Send the headers of a valid upload and its first 100 bytes only."""
    body, content_type = helpers.multipart(helpers.random_submission(directory, seed=3))
    head = helpers.post_head(
        "/api/submissions", {"Content-Length": str(len(body)), "Content-Type": content_type, **headers}
    )
    return helpers.raw_exchange(srv.port, head, [body[:100]], wait=10)


@pytest.mark.parametrize(
    "headers, fragment",
    [
        ({}, "missing Authorization header"),
        ({"Authorization": "Bearer fmc_not-a-token"}, "invalid team token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "must read 'Bearer"),
    ],
)
def test_bad_tokens_are_refused_before_the_body(server, helpers, headers, fragment):
    srv, directory = server
    got = partial_upload(helpers, srv, directory, headers)
    assert got.status == 401, "the server waited for the body of an unauthenticated upload"
    assert fragment in got.json()["detail"] and got.closed


def test_daily_limit_is_refused_before_the_body(server, helpers):
    srv, directory = server
    token = Contest(directory).store.add_team("at the limit")[1]
    for seed in (1, 2):
        r = httpx.post(
            f"{srv.url}/api/submissions",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("s.csv", helpers.random_submission(directory, seed))},
        )
        assert r.status_code == 200
    got = partial_upload(helpers, srv, directory, {"Authorization": f"Bearer {token}"})
    assert got.status == 429, "the server read (and scored) a file that the daily limit refuses"
    assert "used its 2 submissions" in got.json()["detail"] and got.closed


def test_a_flooding_team_is_rate_limited_and_the_others_are_not(server):
    srv, directory = server
    store = Contest(directory).store
    flooder, honest = store.add_team("flooder")[1], store.add_team("honest")[1]

    async def flood() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=srv.url) as client:
            calls = [
                client.get("/api/submissions", headers={"Authorization": f"Bearer {flooder}"})
                for _ in range(12)
            ]
            return await asyncio.gather(*calls)

    answers = asyncio.run(flood())
    codes = [r.status_code for r in answers]
    # 12 at once against a burst of 3 refilled at 0.5/s: at most 3 + 0.5 x (the time they took) pass.
    assert 3 <= codes.count(200) < 12 and set(codes) == {200, 429}, codes
    refused = next(r for r in answers if r.status_code == 429)
    assert "too many requests from your team" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) >= 1
    r = httpx.get(f"{srv.url}/api/submissions", headers={"Authorization": f"Bearer {honest}"})
    assert r.status_code == 200 and r.json()["team"] == "honest"


def test_closed_contest_is_refused_before_the_body(server, helpers, capsys):
    srv, directory = server  # the last test of the module: it closes the contest
    token = Contest(directory).store.add_team("too late")[1]
    assert main(["challenge", "close", str(directory)]) == 0
    capsys.readouterr()
    got = partial_upload(helpers, srv, directory, {"Authorization": f"Bearer {token}"})
    assert got.status == 403 and "the contest is closed" in got.json()["detail"]
