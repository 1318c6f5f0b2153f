"""HTTP tests against the real uvicorn server on a free loopback port."""

from __future__ import annotations

import csv
import io
import itertools

import httpx
import pytest

_names = itertools.count()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def submit(url: str, token: str, data: bytes, filename: str = "sub.csv") -> httpx.Response:
    return httpx.post(
        f"{url}/api/submissions", headers=bearer(token), files={"file": (filename, data, "text/csv")}
    )


@pytest.fixture
def team(add_team):
    return add_team(f"team-{next(_names)}")


def test_registration_by_cli_and_by_admin_api(live_contest, add_team):
    url = live_contest.url
    token = add_team("registered by cli")
    assert httpx.get(f"{url}/api/submissions", headers=bearer(token)).json()["team"] == "registered by cli"
    r = httpx.post(f"{url}/api/teams", headers=bearer(live_contest.admin), json={"name": "registered by api"})
    assert r.status_code == 200, r.text
    api_token = r.json()["token"]
    assert (
        httpx.get(f"{url}/api/submissions", headers=bearer(api_token)).json()["team"] == "registered by api"
    )
    again = httpx.post(
        f"{url}/api/teams", headers=bearer(live_contest.admin), json={"name": "Registered by API"}
    )
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    bad = httpx.post(f"{url}/api/teams", headers=bearer(live_contest.admin), json={"team": "x"})
    assert bad.status_code == 400 and bad.json()["detail"] == 'send JSON {"name": "team name"}'
    assert httpx.post(f"{url}/api/teams", json={"name": "x"}).status_code == 401
    assert httpx.post(f"{url}/api/teams", headers=bearer(token), json={"name": "x"}).status_code == 401


def test_submission_is_scored_on_the_server(live_contest, team, helpers):
    url, directory = live_contest.url, live_contest.directory
    data = helpers.random_submission(directory, seed=11)
    r = submit(url, team, data)
    assert r.status_code == 200, r.text
    body = r.json()
    public, _ = helpers.reference_scores(directory, data)
    assert set(body) == {"id", "public_score"}
    assert body["public_score"] == pytest.approx(public, abs=1e-12)
    history = httpx.get(f"{url}/api/submissions", headers=bearer(team)).json()
    assert [s["id"] for s in history["submissions"]] == [body["id"]]
    assert "private_score" not in history["submissions"][0]  # hidden before the close
    assert history["final"] == [body["id"]]  # default: best public
    stored = httpx.get(f"{url}/api/submissions/{body['id']}/file", headers=bearer(team))
    assert stored.status_code == 200 and stored.content == data
    rows = httpx.get(f"{url}/api/leaderboard").json()["rows"]
    mine = [
        row
        for row in rows
        if row["entries"] and not row["baseline"] and row["public"] == body["public_score"]
    ]
    assert mine and all("private" not in row for row in rows)


def _valid_rows(directory, helpers) -> list[str]:
    return helpers.random_submission(directory, seed=0).decode().splitlines()


@pytest.mark.parametrize(
    "case, fragment",
    [
        ("header", "first line must be the header 'pair_id,score'"),
        ("missing", "pair id(s) are missing"),
        ("duplicate", "appears twice"),
        ("extra", "unknown pair id 'p99999'"),
        ("nan", "is not finite"),
        ("inf", "is not finite"),
        ("text", "is not a number"),
        ("fields", "expected 2 fields"),
        ("latin1", "not UTF-8 text"),
        ("empty", "the file is empty"),
    ],
)
def test_every_validation_error_over_http(live_contest, add_team, helpers, case, fragment):
    token = add_team(f"validation {case}")
    lines = _valid_rows(live_contest.directory, helpers)
    first = lines[1].split(",")[0]
    edits = {
        "header": ["id,score"] + lines[1:],
        "missing": lines[:-1],
        "duplicate": lines + [lines[1]],
        "extra": lines + ["p99999,0.5"],
        "nan": lines[:1] + [f"{first},NaN"] + lines[2:],
        "inf": lines[:1] + [f"{first},inf"] + lines[2:],
        "text": lines[:1] + [f"{first},high"] + lines[2:],
        "fields": lines[:1] + [f"{first},0.1,0.2"] + lines[2:],
        "latin1": lines[:1] + [f"{first},0.5 \u00e9"] + lines[2:],
        "empty": [],
    }
    data = "\n".join(edits[case]).encode("latin-1" if case == "latin1" else "utf-8")
    r = submit(live_contest.url, token, data)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and fragment in detail and "\n" not in detail
    # A refused file does not count towards the daily limit and is not recorded.
    assert httpx.get(f"{live_contest.url}/api/submissions", headers=bearer(token)).json()["submissions"] == []


def test_missing_file_field(live_contest, team):
    r = httpx.post(
        f"{live_contest.url}/api/submissions", headers=bearer(team), files={"other": ("a.csv", b"x")}
    )
    assert r.status_code == 400 and "multipart field 'file'" in r.json()["detail"]


def test_oversized_uploads(live_contest, team):
    url = live_contest.url
    big = b"pair_id,score\n" + b"p00000,0.5\n" * 2000  # over the 20 000-byte file limit, under the body limit
    r = submit(url, team, big)
    assert r.status_code == 413 and "the limit is 20000 bytes" in r.json()["detail"]
    huge = b"x" * (2 << 20)  # refused from its Content-Length, before the body is read
    r = submit(url, team, huge)
    assert r.status_code == 413 and "the request is" in r.json()["detail"]
    assert r.headers["connection"] == "close"


def test_daily_limit(live_contest, team, helpers):
    for seed in range(3):
        assert (
            submit(
                live_contest.url, team, helpers.random_submission(live_contest.directory, seed)
            ).status_code
            == 200
        )
    r = submit(live_contest.url, team, helpers.random_submission(live_contest.directory, 9))
    assert r.status_code == 429 and "used its 3 submissions" in r.json()["detail"]
    assert (
        len(httpx.get(f"{live_contest.url}/api/submissions", headers=bearer(team)).json()["submissions"]) == 3
    )


def test_auth_failures_and_tampered_tokens(live_contest, add_team, helpers):
    url, directory = live_contest.url, live_contest.directory
    data = helpers.random_submission(directory, 1)
    r = httpx.post(f"{url}/api/submissions", files={"file": ("s.csv", data)})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "missing Authorization header" in r.json()["detail"]
    r = httpx.post(
        f"{url}/api/submissions",
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
        files={"file": ("s.csv", data)},
    )
    assert r.status_code == 401 and "must read 'Bearer" in r.json()["detail"]
    token = add_team("auth owner")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in ("wrong", flipped, token[:-1], token + "x", token.upper(), live_contest.admin, "x" * 500):
        r = submit(url, bad, data)
        assert r.status_code == 401, bad
    assert submit(url, token, data).status_code == 200


def test_another_teams_token_sees_nothing_of_ours(live_contest, add_team, helpers):
    url = live_contest.url
    ours, theirs = add_team("owner A"), add_team("intruder B")
    sub_id = submit(url, ours, helpers.random_submission(live_contest.directory, 2)).json()["id"]
    r = httpx.get(f"{url}/api/submissions/{sub_id}/file", headers=bearer(theirs))
    assert r.status_code == 404 and r.json()["detail"] == f"your team has no submission {sub_id}"
    r = httpx.put(f"{url}/api/final", headers=bearer(theirs), json={"ids": [sub_id]})
    assert r.status_code == 404
    assert httpx.get(f"{url}/api/submissions", headers=bearer(theirs)).json()["submissions"] == []
    assert httpx.post(f"{url}/api/close", headers=bearer(theirs)).status_code == 401


def test_path_traversal_in_file_names_is_harmless(live_contest, team, helpers, tmp_path):
    url, directory = live_contest.url, live_contest.directory
    before = sorted(p.name for p in directory.iterdir())
    names = [
        "../../../../../../tmp/evil.csv",
        "..\\..\\evil.csv",
        "/etc/passwd",
        "bundle/../challenge.json",
        f"{tmp_path}/planted.csv",
    ]
    for k, name in enumerate(names[:3]):
        r = submit(url, team, helpers.random_submission(directory, 20 + k), filename=name)
        assert r.status_code == 200 and name not in r.text
    for name in names[3:]:
        r = submit(url, "bad-token", b"x", filename=name)
        assert r.status_code == 401
    assert not (tmp_path / "planted.csv").exists()
    assert sorted(p.name for p in directory.iterdir() if not p.name.startswith("challenge.db")) == [
        n for n in before if not n.startswith("challenge.db")
    ]
    assert (directory / "challenge.json").read_text().startswith("{")
    r = httpx.get(f"{url}/api/submissions/..%2F..%2Fchallenge.json/file", headers=bearer(team))
    assert r.status_code in (404, 422)
    assert httpx.get(f"{url}/../challenge.json").status_code == 404


def test_team_names_are_escaped_on_the_page_and_guarded_in_csv(live_contest, add_team, helpers):
    url = live_contest.url
    evil = '<script>alert("x")</script>'
    formula = '=HYPERLINK("http://evil","hi")'
    for k, name in enumerate((evil, formula)):
        assert (
            submit(url, add_team(name), helpers.random_submission(live_contest.directory, 40 + k)).status_code
            == 200
        )
    page = httpx.get(url + "/")
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    rows = list(csv.reader(io.StringIO(httpx.get(url + "/leaderboard.csv").text)))
    teams = [r[1] for r in rows[1:]]
    assert "'" + formula in teams and evil in teams
    assert not any(t.startswith(("=", "+", "-", "@")) for t in teams)


def test_html_form_submit_and_history(live_contest, team, helpers):
    url = live_contest.url
    data = helpers.random_submission(live_contest.directory, 50)
    r = httpx.post(url + "/submit", data={"token": team}, files={"file": ("mine.csv", data, "text/csv")})
    assert r.status_code == 200 and "was accepted" in r.text
    public, _ = helpers.reference_scores(live_contest.directory, data)
    assert f"{public:.5f}" in r.text
    r = httpx.post(url + "/submit", data={"token": "nope"}, files={"file": ("mine.csv", data, "text/csv")})
    assert r.status_code == 401 and "invalid team token" in r.text
    r = httpx.post(url + "/submit", data={"token": team}, files={"file": ("mine.csv", b"a,b\n", "text/csv")})
    assert r.status_code == 400 and "first line must be the header" in r.text
    r = httpx.post(url + "/me", data={"token": team})
    assert r.status_code == 200 and 'id="history"' in r.text and r.text.count('name="final"') == 1
    sub_id = httpx.get(f"{url}/api/submissions", headers=bearer(team)).json()["submissions"][0]["id"]
    r = httpx.post(url + "/me/final", data={"token": team, "final": [str(sub_id)]})
    assert r.status_code == 200 and "final choice was saved" in r.text
    assert httpx.get(f"{url}/api/submissions", headers=bearer(team)).json()["submissions"][0]["selected"]


def test_close_reveals_private_scores_and_export(make_contest, helpers, tmp_path):
    from facemetric.challenge.process import ServerProcess, free_port
    from facemetric.cli.main import main

    directory, admin = make_contest(daily_limit=5)
    with ServerProcess(directory, free_port()) as server:
        url = server.url
        r = httpx.post(f"{url}/api/teams", headers=bearer(admin), json={"name": "closer"})
        token = r.json()["token"]
        datas = [helpers.random_submission(directory, s) for s in (60, 61)]
        ids = [submit(url, token, d).json()["id"] for d in datas]
        assert httpx.put(f"{url}/api/final", headers=bearer(token), json={"ids": [ids[1]]}).status_code == 200
        before = httpx.get(f"{url}/api/leaderboard").json()
        assert not before["closed"] and all("private" not in row for row in before["rows"])
        assert "Private" not in httpx.get(url + "/").text
        assert httpx.post(f"{url}/api/close", headers=bearer(token)).status_code == 401
        assert httpx.post(f"{url}/api/close", headers=bearer(admin)).status_code == 200
        after = httpx.get(f"{url}/api/leaderboard").json()
        assert after["closed"]
        row = next(r for r in after["rows"] if r["team"] == "closer")
        assert row["private"] == pytest.approx(helpers.reference_scores(directory, datas[1])[1], abs=1e-12)
        assert row["entries"] == 2
        assert all("private" in r for r in after["rows"])
        assert "Private" in httpx.get(url + "/").text
        late = submit(url, token, datas[0])
        assert late.status_code == 403 and "closed" in late.json()["detail"]
        history = httpx.get(f"{url}/api/submissions", headers=bearer(token)).json()["submissions"]
        assert all("private_score" in s for s in history)
        web_csv = httpx.get(url + "/leaderboard.csv").text
    out = tmp_path / "board.csv"
    assert main(["challenge", "export", str(directory), "--out", str(out)]) == 0
    assert out.read_text() == web_csv
    header = web_csv.splitlines()[0].split(",")
    assert header == ["rank", "team", "baseline", "entries", "public", "private", "last_submission"]


def test_in_process_client_errors_are_json_strings(make_contest):
    from fastapi.testclient import TestClient

    from facemetric.challenge import Contest, create_app

    directory, _ = make_contest()
    client = TestClient(create_app(directory))
    _, token = Contest(directory).store.add_team("tc")
    r = client.put("/api/final", headers=bearer(token), content=b"not json")
    assert r.status_code == 400 and r.json()["detail"] == 'send JSON {"ids": [submission ids]}'
    r = client.put("/api/final", headers=bearer(token), json={"ids": ["x"]})
    assert r.status_code == 400 and r.json()["detail"] == 'send JSON {"ids": [submission ids]}'
    r = client.put("/api/final", headers=bearer(token), json={"ids": [1, 2, 3]})
    assert r.status_code == 400 and "at most 2 final" in r.json()["detail"]
    assert client.get("/submit").status_code == 200 and 'type="file"' in client.get("/submit").text
