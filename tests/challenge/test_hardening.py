"""Finding 7, the server side: rounded public scores, a strict number parser, huge ids, look-alike
names, formulas for every separator, no-store on /me, and status codes that match the docs."""

from __future__ import annotations

import csv
import io
import re
import socket
from pathlib import Path

import httpx
import pytest

from facemetric.challenge import Contest
from facemetric.challenge.process import ServerProcess, free_port
from facemetric.cli.main import main

DOCS = Path(__file__).resolve().parents[2] / "docs" / "challenge.md"
TRIGGERS = ("=", "+", "-", "@")


@pytest.fixture(scope="module")
def site(make_contest):
    directory, admin = make_contest(daily_limit=2)
    args = ["--body-timeout", "1", "--max-connections", "6", "--header-timeout", "30"]
    with ServerProcess(directory, free_port(), serve_args=args) as server:
        yield server, directory, admin


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def new_team(site, name: str) -> str:
    server, _, admin = site
    r = httpx.post(f"{server.url}/api/teams", headers=bearer(admin), json={"name": name})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def upload(url, token, data, **headers) -> httpx.Response:
    return httpx.post(
        f"{url}/api/submissions", headers={**bearer(token), **headers}, files={"file": ("s.csv", data)}
    )


def decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def test_public_scores_are_rounded_to_5_decimals_everywhere(site, helpers):
    server, directory, _ = site
    token = new_team(site, "rounding")
    data = helpers.random_submission(directory, seed=71)
    body = upload(server.url, token, data).json()
    public, _ = helpers.reference_scores(directory, data)  # sklearn's AUC, rounded to 5 decimals
    assert body["public_score"] == public and decimals(body["public_score"]) <= 5
    history = httpx.get(f"{server.url}/api/submissions", headers=bearer(token)).json()["submissions"]
    assert history[0]["public_score"] == public
    rows = httpx.get(f"{server.url}/api/leaderboard").json()["rows"]
    assert all(r["public"] is None or decimals(r["public"]) <= 5 for r in rows)
    stored = Contest(directory).store.submissions()
    assert all(decimals(s.public_score) <= 5 for s in stored)  # never kept more precisely either


@pytest.mark.parametrize(
    "score",
    [
        "1_000",
        "\uff11",
        "\u0663",
        "\u0661\u066b\u0665",
        "\u00a00.5",
        "0.5\u00a0",
        "\u20280.5",
        "0.5\u2028",
        "0x10",
        "1e",
    ],
)
def test_only_plain_ascii_numbers_are_scores(site, helpers, score):
    server, directory, _ = site
    token = new_team(site, f"numbers {score.encode('unicode_escape').decode()}")
    lines = helpers.random_submission(directory, seed=72).decode().splitlines()
    pid = lines[1].split(",")[0]
    data = "\n".join([lines[0], f"{pid},{score}", *lines[2:]]).encode()
    r = upload(server.url, token, data)
    assert r.status_code == 400 and "is not a number" in r.json()["detail"], r.text


def test_huge_and_odd_ids_are_json_404s(site, helpers):
    server, directory, _ = site
    token = new_team(site, "huge ids")
    huge = 10**30
    for sub_id in (huge, 2**63, 0, "-1", "abc"):
        r = httpx.get(f"{server.url}/api/submissions/{sub_id}/file", headers=bearer(token))
        assert r.status_code == 404 and "no submission" in r.json()["detail"], (sub_id, r.text)
    r = httpx.put(f"{server.url}/api/final", headers=bearer(token), json={"ids": [huge]})
    assert r.status_code == 404 and "no submission" in r.json()["detail"]
    r = httpx.post(f"{server.url}/me/final", data={"token": token, "final": [str(huge)]})
    assert r.status_code == 404 and "no submission" in r.json()["detail"]
    browser = httpx.post(
        f"{server.url}/me/final", data={"token": token, "final": [str(huge)]}, headers={"Accept": "text/html"}
    )
    assert browser.status_code == 404 and 'id="error"' in browser.text  # a browser gets the page


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("baseline: c\u043esine", "looks like the existing team 'baseline: cosine'"),  # Cyrillic o
        ("\uff22aseline: L2", "looks like the existing team 'baseline: L2'"),  # full-width B
        ("baseIine: L2", "looks like the existing team 'baseline: L2'"),  # capital I for l
        ("BASELINE: COSINE", "already exists"),
        ("baseline: mine", "kept for the reference rows"),
        ("Deep Metric Lab", "already exists"),
        ("Deep Rnetric Lab", "looks like the existing team 'Deep Metric Lab'"),
        ("D\u0435ep M\u0435tric L\u0430b", "looks like the existing team 'Deep Metric Lab'"),
        ("Deep\u00a0Metric  Lab", "looks like the existing team 'Deep Metric Lab'"),
    ],
)
def test_look_alike_team_names_are_refused(site, name, fragment):
    server, directory, admin = site
    store = Contest(directory).store
    if "Deep Metric Lab" not in {t.name for t in store.teams()}:
        new_team(site, "Deep Metric Lab")
    r = httpx.post(f"{server.url}/api/teams", headers=bearer(admin), json={"name": name})
    assert r.status_code == 400 and fragment in r.json()["detail"], r.text


def test_look_alike_names_are_refused_by_the_cli_too(site, capsys):
    _, directory, _ = site
    assert main(["challenge", "team", "add", str(directory), "baseline: c\u043esine"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: team name") and "looks like" in err and len(err.strip().splitlines()) == 1


def test_formula_cells_are_quoted_for_every_separator(site, helpers, capsys):
    server, directory, _ = site
    names = [";=1+2", 'x;=HYPERLINK("http://evil")', "a|@SUM(A1)", "ok, -2+3", "b; +cmd"]
    for k, name in enumerate(names):
        assert (
            upload(server.url, new_team(site, name), helpers.random_submission(directory, 80 + k)).status_code
            == 200
        )
    assert main(["challenge", "export", str(directory)]) == 0
    exported = capsys.readouterr().out
    for text in (httpx.get(server.url + "/leaderboard.csv").text, exported):
        for separator in ",;|\t":
            for row in csv.reader(io.StringIO(text), delimiter=separator):
                for cell in row:
                    assert not cell.lstrip(' "').startswith(TRIGGERS), (separator, cell)
        assert "'=1+2" in text  # the text is kept, only neutralised


def test_pages_with_a_team_token_are_never_stored(site):
    server, _, _ = site
    token = new_team(site, "no store")
    for r in (
        httpx.post(f"{server.url}/me", data={"token": token}),
        httpx.post(f"{server.url}/me/final", data={"token": token}),
        httpx.get(f"{server.url}/me"),
        httpx.get(f"{server.url}/api/submissions", headers=bearer(token)),
    ):
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.url
    assert token in httpx.post(f"{server.url}/me", data={"token": token}).text  # the page that holds it


def documented_statuses() -> dict[int, str]:
    section = DOCS.read_text(encoding="utf-8").split("### Status codes", 1)[1].split("\n#", 1)[0]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d{3}) \| (.+?) \|$", section, re.M)}


def test_status_codes_are_the_documented_ones(site, helpers, capsys):
    server, directory, admin = site
    url = server.url
    token = new_team(site, "status codes")
    data = helpers.random_submission(directory, seed=90)
    seen: dict[int, httpx.Response] = {}

    def record(r, status):
        assert r.status_code == status, (status, r.text)
        assert isinstance(r.json()["detail"], str)
        seen[status] = r

    record(upload(url, token, b"a,b\n"), 400)
    # A text field named 'file' is a bad request like any other (it was a 422, undocumented).
    record(
        httpx.post(
            f"{url}/api/submissions", headers=bearer(token), files={"x": ("a", b"")}, data={"file": "x"}
        ),
        400,
    )
    record(upload(url, "fmc_wrong", data), 401)
    record(httpx.get(f"{url}/api/submissions/12345/file", headers=bearer(token)), 404)
    assert upload(url, token, data, **{"Idempotency-Key": "k"}).status_code == 200
    record(upload(url, token, helpers.random_submission(directory, 91), **{"Idempotency-Key": "k"}), 409)
    record(upload(url, token, b"x" * (1 << 20)), 413)
    assert upload(url, token, helpers.random_submission(directory, 92)).status_code == 200
    record(upload(url, token, helpers.random_submission(directory, 93)), 429)
    # A refused final choice is a 4xx (it was a 200 page).
    r = httpx.post(f"{url}/me/final", data={"token": token, "final": ["1", "2", "3"]})
    assert r.status_code == 400 and "at most 2 final" in r.json()["detail"]
    form = f"token={token}".encode()
    slow = helpers.raw_exchange(
        server.port,
        helpers.post_head(
            "/me", {"Content-Length": str(len(form)), "Content-Type": "application/x-www-form-urlencoded"}
        ),
        [form[:10]],
        wait=20,
    )
    assert slow.status == 408 and slow.json()["detail"]
    seen[408] = slow
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(6)]
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as extra:
            extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b"".join(iter(lambda: extra.recv(4096), b""))
        assert answer.startswith(b"HTTP/1.1 503 ") and b'"detail"' in answer
        seen[503] = answer
    finally:
        for sock in held:
            sock.close()
    assert main(["challenge", "close", str(directory)]) == 0
    capsys.readouterr()
    record(upload(url, token, data), 403)
    assert set(documented_statuses()) == set(seen), (
        "docs/challenge.md and the server disagree on status codes"
    )
