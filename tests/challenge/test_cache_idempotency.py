"""Findings 5 and 6: a leaderboard cache that every commit invalidates; Idempotency-Key retries."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3

import httpx
import pytest

from facemetric.challenge import Contest
from facemetric.challenge.process import ServerProcess, free_port
from facemetric.cli.main import main


@pytest.fixture(scope="module")
def served(make_contest):
    directory, admin = make_contest(daily_limit=3)
    with ServerProcess(directory, free_port()) as server:
        yield server, directory, admin


def post(url, token, data, key=None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.post(f"{url}/api/submissions", headers=headers, files={"file": ("s.csv", data)})


def views(url) -> tuple[list, str, str]:
    return (
        httpx.get(url + "/api/leaderboard").json()["rows"],
        httpx.get(url + "/").text,
        httpx.get(url + "/leaderboard.csv").text,
    )


def test_leaderboard_is_served_from_cache_until_a_commit(served, helpers):
    server, directory, admin = served
    before = views(server.url)
    assert any(r["team"] == "baseline: L2" for r in before[0])
    # Rename a team behind the server's back: no commit through the store, so no new generation.
    with contextlib.closing(sqlite3.connect(directory / "challenge.db")) as conn:
        conn.execute("UPDATE teams SET name = 'renamed by hand' WHERE name = 'baseline: L2'")
        conn.commit()
    assert views(server.url) == before, "the leaderboard was recomputed although nothing was committed"
    # A commit by another process (the organiser's CLI) makes every view fresh at once.
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["challenge", "team", "add", str(directory), "newcomer"]) == 0
    rows, html, csv_text = views(server.url)
    names = {r["team"] for r in rows}
    assert {"newcomer", "renamed by hand"} <= names and "baseline: L2" not in names
    assert "renamed by hand" in html and "newcomer" in csv_text
    # So does a submission committed by the server itself.
    token = Contest(directory).store.add_team("cached submitter")[1]
    r = post(server.url, token, helpers.random_submission(directory, seed=8))
    assert r.status_code == 200
    row = next(r2 for r2 in views(server.url)[0] if r2["team"] == "cached submitter")
    assert row["entries"] == 1 and row["public"] == r.json()["public_score"]


def test_the_same_idempotency_key_returns_the_first_result_once(served, helpers):
    server, directory, _ = served
    token = Contest(directory).store.add_team("retrier")[1]
    data = helpers.random_submission(directory, seed=21)
    first = post(server.url, token, data, key="run-7/attempt")
    again = post(server.url, token, data, key="run-7/attempt")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    history = httpx.get(f"{server.url}/api/submissions", headers={"Authorization": f"Bearer {token}"}).json()
    assert [s["id"] for s in history["submissions"]] == [first.json()["id"]]  # counted once
    other = post(server.url, token, helpers.random_submission(directory, seed=22), key="run-7/attempt")
    assert other.status_code == 409 and "already used for another file" in other.json()["detail"]
    for bad in ("", "x" * 256, "naïve".encode()):
        r = post(server.url, token, data, key=bad)
        assert r.status_code == 400 and "Idempotency-Key" in r.json()["detail"], bad


def test_a_retry_at_the_daily_limit_still_gets_its_answer(served, helpers):
    server, directory, _ = served
    token = Contest(directory).store.add_team("limit retrier")[1]
    datas = [helpers.random_submission(directory, seed=30 + k) for k in range(4)]
    firsts = [post(server.url, token, datas[k], key=f"k{k}") for k in range(3)]
    assert [r.status_code for r in firsts] == [200, 200, 200]
    assert post(server.url, token, datas[3], key="k3").status_code == 429
    replay = post(server.url, token, datas[2], key="k2")
    assert replay.status_code == 200 and replay.json() == firsts[2].json()


def test_concurrent_retries_with_one_key_store_one_submission(served, helpers):
    server, directory, _ = served
    token = Contest(directory).store.add_team("impatient")[1]
    data = helpers.random_submission(directory, seed=40)

    async def burst():
        async with httpx.AsyncClient(base_url=server.url) as client:
            calls = [
                client.post(
                    "/api/submissions",
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "same"},
                    files={"file": ("s.csv", data)},
                )
                for _ in range(6)
            ]
            return await asyncio.gather(*calls)

    answers = asyncio.run(burst())
    assert {r.status_code for r in answers} == {200}
    assert len({r.json()["id"] for r in answers}) == 1
    store = Contest(directory).store
    team = store.team_for_token(token)
    assert len(store.submissions(team.id)) == 1
