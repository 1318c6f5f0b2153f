"""Load and fault tests on loopback: 220 concurrent submissions from 20 teams; kill -9 mid-load."""

from __future__ import annotations

import threading

import pytest

from facemetric.challenge import Contest
from facemetric.challenge.load import Job, audit, run_load
from facemetric.challenge.process import ServerProcess, free_port

N_TEAMS = 20
PER_TEAM = 11  # one more than the daily limit: exactly 10 per team must get in, whatever the timing
DAILY_LIMIT = 10


def make_jobs(directory, helpers, *, keys: bool = False) -> tuple[list[Job], list[str]]:
    store = Contest(directory).store
    tokens = [store.add_team(f"load team {k:02d}")[1] for k in range(N_TEAMS)]
    jobs = [
        Job(
            tokens[t],
            helpers.random_submission(directory, seed=1000 + t * PER_TEAM + k),
            key=f"job-{t}-{k}" if keys else None,
        )
        for k in range(PER_TEAM)
        for t in range(N_TEAMS)
    ]
    return jobs, tokens


def check_scores(directory, store, helpers) -> None:
    """Every stored submission has the scores sklearn gives its stored bytes."""
    for team in store.teams():
        for sub in store.submissions(team.id):
            public, private = helpers.reference_scores(directory, store.submission_file(team.id, sub.id))
            assert sub.public_score == pytest.approx(public, abs=1e-12)
            assert sub.private_score == pytest.approx(private, abs=1e-12)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_concurrent_submissions_are_recorded_once_and_scored_right(make_contest, helpers):
    directory, _ = make_contest(daily_limit=DAILY_LIMIT)
    jobs, tokens = make_jobs(directory, helpers)
    with ServerProcess(directory, free_port()) as server:
        result = run_load(server.url, jobs, timeout=120)
    statuses = sorted({a.status for a in result.answers})
    assert statuses == [200, 429], [a.error or a.body for a in result.answers if a.status not in (200, 429)][
        :3
    ]
    assert len(result.accepted()) == N_TEAMS * DAILY_LIMIT
    store = Contest(directory).store
    assert audit(store, result) == []
    teams = {t.name: t for t in store.teams()}
    for k in range(N_TEAMS):
        assert len(store.submissions(teams[f"load team {k:02d}"].id)) == DAILY_LIMIT
    assert len(store.submissions()) == N_TEAMS * DAILY_LIMIT + 2  # plus the two baselines
    check_scores(directory, store, helpers)
    print(
        f"\n{len(result.accepted())} submissions accepted in {result.seconds:.2f} s "
        f"({result.throughput():.1f} submissions/s)"
    )


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_kill_9_mid_load_loses_no_accepted_submission(make_contest, helpers):
    """Kill -9 mid-load, restart, retry every unanswered job with its Idempotency-Key (finding 6)."""
    directory, _ = make_contest(daily_limit=DAILY_LIMIT)
    jobs, _ = make_jobs(directory, helpers, keys=True)
    port = free_port()
    server = ServerProcess(directory, port).start()
    accepted = threading.Event()
    count = [0]
    lock = threading.Lock()

    def on_answer(answer):
        with lock:
            count[0] += answer.status == 200
            if count[0] >= 10:
                accepted.set()

    box = {}
    worker = threading.Thread(
        target=lambda: box.setdefault("result", run_load(server.url, jobs, timeout=60, on_answer=on_answer))
    )
    worker.start()
    try:
        assert accepted.wait(60), "the server accepted fewer than 10 submissions in 60 s"
        server.kill()  # SIGKILL while requests are in flight
    finally:
        worker.join(90)
        server.kill()
    result = box["result"]
    n_ok = len(result.accepted())
    assert 10 <= n_ok < N_TEAMS * DAILY_LIMIT, f"{n_ok} accepted: the kill did not land mid-load"
    assert any(a.status == 0 for a in result.answers)  # some requests died with the server

    with ServerProcess(directory, port) as restarted:
        store = Contest(directory).store
        assert audit(store, result) == []
        stored = store.submissions()
        assert len(stored) >= n_ok + 2  # committed-but-unanswered rows may exist, and must be whole
        sent = {job.sha256 for job in jobs} | {s.sha256 for s in stored[:2]}
        assert all(s.sha256 in sent for s in stored)
        check_scores(directory, store, helpers)
        # The restarted server serves and accepts again.
        import httpx

        late = Job(jobs[-1].token, helpers.random_submission(directory, seed=99))
        r = httpx.post(
            f"{restarted.url}/api/submissions",
            headers={"Authorization": f"Bearer {late.token}"},
            files={"file": ("x.csv", late.data)},
        )
        assert r.status_code in (200, 429)
        assert httpx.get(f"{restarted.url}/api/leaderboard").status_code == 200
        # Clients that got no answer retry with the same key: committed-but-unanswered jobs are
        # answered from the store, not stored (nor counted) a second time.
        unanswered = [a.job for a in result.answers if a.status == 0]
        retried = run_load(restarted.url, unanswered, timeout=60)
        assert {a.status for a in retried.answers} <= {200, 429}
        replayed = [a for a in retried.accepted() if a.body["id"] in {s.id for s in stored}]
        assert audit(store, retried) == []
    after = Contest(directory).store.submissions()
    by_sha: dict[str, int] = {}
    for s in after[2:]:
        by_sha[s.sha256] = by_sha.get(s.sha256, 0) + 1
    assert max(by_sha.values()) == 1, "a retried job was stored twice"
    per_team: dict[int, int] = {}
    for s in after[2:]:
        per_team[s.team_id] = per_team.get(s.team_id, 0) + 1
    assert max(per_team.values()) <= DAILY_LIMIT
    print(
        f"\nkilled after {n_ok} accepted answers; {len(stored) - 2} submissions stored, all whole; "
        f"{len(unanswered)} retried, {len(replayed)} of them answered from the store"
    )
