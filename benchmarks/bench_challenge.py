"""Competition server under load, on loopback: uploads, leaderboard GETs, refused requests, kill -9.

Every part starts ``facemetric challenge serve`` in a child process on a synthetic contest and
prints its figures next to a reference measured in the same run:

* ``uploads``: 20, 100 and 300 LFW-sized submissions (6000 pairs) sent at once, one connection
  each; every accepted one is checked (stored once, with the bytes sent, scored as sklearn scores
  it). References: the same files one at a time over HTTP, and ``Contest.submit`` in-process. Also
  the lag between each commit and the client receiving its answer.
* ``leaderboard``: GETs/s of ``/api/leaderboard`` and ``/`` at 30,000 submissions, over 8
  keep-alive connections; reference: one recomputation (what every GET cost without the cache).
  Also GETs/s while 10 submissions a second are committed (each one invalidates the cache).
* ``refused``: the server CPU time of a refused upload (missing token, daily limit used, team
  rate exceeded) against that of an accepted one, and an honest team's upload latency alone
  and during a flood of refused uploads from another team.
* ``kill``: a loop of kill -9 in the middle of a load of keyed uploads, restart, retry of the
  unanswered ones with the same ``Idempotency-Key``: accepted, lost, stored twice.

    OMP_NUM_THREADS=2 nice -n 5 .venv/bin/python benchmarks/bench_challenge.py --json bench_challenge.json
    .venv/bin/python benchmarks/bench_challenge.py --table bench_challenge.json   # the docs tables

Absolute rates depend on the host and on what else runs on it; the ratios are the figures to read.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import random
import shutil
import statistics
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np
from sklearn.metrics import roc_auc_score

from facemetric.challenge import ChallengeConfig, Contest, create_challenge, leaderboard
from facemetric.challenge.load import Job, audit, cpu_seconds, run_gets, run_load
from facemetric.challenge.process import ServerProcess, free_port
from facemetric.challenge.synthetic import synthetic_contest_data

OPEN = ["--team-rate", "1000", "--team-burst", "1000", "--max-connections", "2000"]
PACED_RATE = 85.0  # the red team's sustained rate of refused requests


def make_contest(work: Path, name: str, n_pairs: int, **settings) -> Contest:
    train, test, protocol = synthetic_contest_data(
        n_test_people=max(20, n_pairs // 14), n_pairs=n_pairs, dim=128, seed=0
    )
    settings.setdefault("max_upload_bytes", 64 * n_pairs)
    created = create_challenge(train, test, protocol, work / name, ChallengeConfig(**settings))
    return Contest(created.directory)


def submission(pair_ids: list[str], rng: np.random.Generator) -> bytes:
    order = rng.permutation(len(pair_ids))
    return ("pair_id,score\n" + "".join(f"{pair_ids[i]},{rng.standard_normal()!r}\n" for i in order)).encode()


def sklearn_scores(contest: Contest, data: bytes) -> tuple[float, float]:
    rows = dict(csv.reader(io.StringIO(data.decode())))
    rows.pop("pair_id")
    a = contest.answers
    scores = np.array([float(rows[p]) for p in a.pair_ids])
    return (
        round(float(roc_auc_score(a.labels[a.public], scores[a.public])), 5),
        float(roc_auc_score(a.labels[~a.public], scores[~a.public])),
    )


def post(client: httpx.Client, token: str, data: bytes) -> httpx.Response:
    return client.post(
        "/api/submissions", headers={"Authorization": f"Bearer {token}"}, files={"file": ("s.csv", data)}
    )


# --- uploads ---------------------------------------------------------------------------
def bench_uploads(work: Path, n_pairs: int, levels: list[int], n_sequential: int) -> dict:
    contest = make_contest(work, "uploads", n_pairs, daily_limit=10_000)
    pair_ids = contest.answers.pair_ids.tolist()
    rng = np.random.default_rng(0)
    tokens = [contest.store.add_team(f"team {k:02d}")[1] for k in range(20)]
    out: dict = {"pairs": n_pairs, "levels": []}
    with ServerProcess(contest.paths["root"], free_port(), serve_args=OPEN) as server:
        for level in levels:
            jobs = [Job(tokens[k % len(tokens)], submission(pair_ids, rng)) for k in range(level)]
            cpu0 = cpu_seconds(server.proc.pid)
            result = run_load(server.url, jobs, timeout=600)
            cpu = cpu_seconds(server.proc.pid) - cpu0
            problems = audit(contest.store, result)
            by_id = {s.id: s for s in contest.store.submissions()}
            wrong = 0
            for a in result.accepted():
                sub, (public, private) = by_id[a.body["id"]], sklearn_scores(contest, a.job.data)
                wrong += sub.public_score != public or abs(sub.private_score - private) > 1e-12
            lags = [
                a.received_at - datetime.fromisoformat(by_id[a.body["id"]].created_at).timestamp()
                for a in result.accepted()
            ]
            out["levels"].append(
                {
                    "concurrent": level,
                    "accepted": len(result.accepted()),
                    "seconds": result.seconds,
                    "per_second": result.throughput(),
                    "statuses": sorted({a.status for a in result.answers}),
                    "problems": problems[:3],
                    "wrong_scores": int(wrong),
                    "server_cpu_per_submission_ms": 1000 * cpu / max(len(result.accepted()), 1),
                    "reply_lag_median_s": statistics.median(lags),
                    "reply_lag_max_s": max(lags),
                }
            )
            print(f"uploads: {out['levels'][-1]}")
        seq = [submission(pair_ids, rng) for _ in range(n_sequential)]
        start = time.perf_counter()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for data in seq:
                assert post(client, tokens[0], data).status_code == 200
        out["sequential_per_second"] = n_sequential / (time.perf_counter() - start)
    solo, _ = contest.store.add_team("in-process")
    start = time.perf_counter()
    for data in seq:
        contest.submit(solo, data)
    out["in_process_per_second"] = n_sequential / (time.perf_counter() - start)
    out["file_kib"] = len(seq[0]) / 1024
    print(
        f"uploads: sequential {out['sequential_per_second']:.1f}/s, "
        f"in-process {out['in_process_per_second']:.1f}/s"
    )
    return out


# --- leaderboard -----------------------------------------------------------------------
def bench_leaderboard(
    work: Path, n_submissions: int, n_teams: int, seconds: float, baseline_src: Path | None = None
) -> dict:
    contest = make_contest(work, "board", 600, daily_limit=10 * n_submissions)
    store = contest.store
    rng = np.random.default_rng(1)
    teams = [store.add_team(f"team {k:03d}")[0] for k in range(n_teams)]
    start = time.perf_counter()
    with store.connect() as conn:
        conn.execute("PRAGMA synchronous = OFF")  # seeding only: no fsync per row
    for k in range(n_submissions):
        store.add_submission(
            teams[k % n_teams].id,
            f"seeded submission {k}".encode(),
            round(float(rng.uniform(0.9, 1.0)), 5),
            float(rng.uniform(0.9, 1.0)),
            daily_limit=None,
        )
    for team in teams[::3]:
        subs = store.submissions(team.id)
        store.select_final(team.id, [subs[0].id, subs[-1].id], max_final=2)
    store.disconnect()
    seeded = time.perf_counter() - start
    recompute = []
    for _ in range(10):
        t = time.perf_counter()
        rows = leaderboard(store)
        recompute.append(time.perf_counter() - t)
    recompute_s = statistics.median(recompute)
    out = {"submissions": len(store.submissions()), "teams": n_teams + 2, "seed_seconds": seeded}
    with ServerProcess(contest.paths["root"], free_port(), serve_args=OPEN) as server:
        served = httpx.get(server.url + "/api/leaderboard").json()["rows"]
        out["rows_match_in_process"] = served == [r.to_dict(closed=False) for r in rows]
        out["json_per_second"], out["json_errors"] = run_gets(server.url, "/api/leaderboard", seconds=seconds)
        out["html_per_second"], out["html_errors"] = run_gets(server.url, "/", seconds=seconds)
        token = store.add_team("committer")[1]
        stop = threading.Event()
        commits = [0]

        def commit_stream() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                while not stop.is_set():
                    r = post(client, token, submission(contest.answers.pair_ids.tolist(), rng))
                    commits[0] += r.status_code == 200
                    stop.wait(0.1)

        writer = threading.Thread(target=commit_stream)
        writer.start()
        try:
            t = time.perf_counter()
            out["json_per_second_with_commits"], _ = run_gets(server.url, "/api/leaderboard", seconds=seconds)
            out["commits_per_second"] = commits[0] / (time.perf_counter() - t)
        finally:
            stop.set()
            writer.join()
    if baseline_src is not None:  # the same database served by another release (no cache there)
        env = {"PYTHONPATH": str(baseline_src)}
        with ServerProcess(contest.paths["root"], free_port(), env=env) as old:
            out["baseline_json_per_second"], _ = run_gets(old.url, "/api/leaderboard", seconds=seconds)
            out["baseline_src"] = str(baseline_src)
    out["recompute_ms"] = 1000 * recompute_s
    out["uncached_ceiling_per_second"] = 1 / recompute_s
    print(f"leaderboard: {out}")
    return out


# --- refused requests ------------------------------------------------------------------
async def _flood(
    port: int, head: bytes, body: bytes, connections: int, seconds: float, rate: float | None = None
) -> dict[int, int]:
    """Upload ``body`` again and again on ``connections`` at once (at most ``rate`` a second in all)."""
    start = time.perf_counter()
    stop = start + seconds
    statuses: dict[int, int] = {}
    sent = [0]

    async def one() -> None:
        while time.perf_counter() < stop:
            if rate is not None:
                sent[0] += 1
                await asyncio.sleep(max(0.0, start + sent[0] / rate - time.perf_counter()))
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(head + body)
                line = await reader.readline()
                status = int(line.split()[1]) if line.startswith(b"HTTP/") else 0
                writer.close()
            except (ConnectionError, OSError):
                status = 0
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(one() for _ in range(connections)))
    return statuses


def bench_refused(work: Path, n_pairs: int, seconds: float, n_honest: int) -> dict:
    contest = make_contest(work, "refused", n_pairs, daily_limit=n_honest + 1)
    pair_ids = contest.answers.pair_ids.tolist()
    rng = np.random.default_rng(2)
    store = contest.store
    honest = store.add_team("honest")[1]
    full_team, full = store.add_team("at its limit")
    for _ in range(n_honest + 1):
        store.add_submission(full_team.id, submission(pair_ids, rng), 0.5, 0.5, daily_limit=None)
    flooder = store.add_team("flooder")[1]
    data = submission(pair_ids, rng)
    boundary = "benchboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n\r\n'.encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def head(token: str | None) -> bytes:
        lines = ["POST /api/submissions HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        lines.append(f"Content-Type: multipart/form-data; boundary={boundary}")
        if token:
            lines.append(f"Authorization: Bearer {token}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    out: dict = {"pairs": n_pairs, "file_kib": len(data) / 1024, "kinds": {}, "honest_count": n_honest // 4}
    # A slow refill and a burst that covers the honest team's uploads: the flooder, once its
    # burst is used up (by cheap GETs below), is refused on every upload.
    args = ["--team-rate", "0.1", "--team-burst", str(n_honest), "--max-connections", "2000"]
    with ServerProcess(contest.paths["root"], free_port(), serve_args=args) as server:

        def honest_latencies(count: int) -> list[float]:
            times = []
            with httpx.Client(base_url=server.url, timeout=60) as client:
                for _ in range(count):
                    t = time.perf_counter()
                    assert post(client, honest, submission(pair_ids, rng)).status_code == 200
                    times.append(time.perf_counter() - t)
                    time.sleep(0.5)  # an honest team, well within its rate
            return times

        cpu0 = cpu_seconds(server.proc.pid)
        alone = honest_latencies(n_honest // 4)
        out["accepted_cpu_ms"] = 1000 * (cpu_seconds(server.proc.pid) - cpu0) / len(alone)
        out["honest_alone_median_ms"] = 1000 * statistics.median(alone)
        with httpx.Client(base_url=server.url) as client:
            for _ in range(n_honest):
                client.get("/api/submissions", headers={"Authorization": f"Bearer {flooder}"})
        for kind, token in (
            ("missing token", None),
            ("daily limit used", full),
            ("team rate exceeded", flooder),
        ):
            cpu0 = cpu_seconds(server.proc.pid)
            t = time.perf_counter()
            statuses = asyncio.run(_flood(server.port, head(token), body, 16, seconds))
            wall = time.perf_counter() - t
            cpu = cpu_seconds(server.proc.pid) - cpu0
            refused = sum(n for s, n in statuses.items() if s in (401, 429))
            out["kinds"][kind] = {
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
                "per_second": refused / wall,
                "server_cpu_ms": 1000 * cpu / max(refused, 1),
            }
            print(f"refused ({kind}): {out['kinds'][kind]}")
        for name, connections, rate in (("flood", 16, None), ("paced", 8, PACED_RATE)):
            box: dict = {}

            def run_flood(box=box, connections=connections, rate=rate) -> None:
                box["s"] = asyncio.run(_flood(server.port, head(full), body, connections, seconds * 3, rate))

            flood = threading.Thread(target=run_flood)
            t = time.perf_counter()
            flood.start()
            time.sleep(0.5)
            during = honest_latencies(n_honest // 4)
            flood.join()
            refused = sum(n for s, n in box["s"].items() if s == 429)
            out[f"honest_during_{name}_median_ms"] = 1000 * statistics.median(during)
            out[f"{name}_refused_per_second"] = refused / (time.perf_counter() - t)
    print(f"refused: {out}")
    return out


# --- kill -9 loop ----------------------------------------------------------------------
def load_until_killed(server: ServerProcess, jobs: list[Job], target: int):
    """Send ``jobs`` at once and kill -9 the server once ``target`` of them were answered 200."""
    seen = threading.Event()
    count = [0]

    def on_answer(answer) -> None:
        count[0] += answer.status == 200
        if count[0] >= target:
            seen.set()

    box: dict = {}
    worker = threading.Thread(
        target=lambda: box.setdefault("r", run_load(server.url, jobs, timeout=60, on_answer=on_answer))
    )
    worker.start()
    seen.wait(60)
    server.kill()
    worker.join(120)
    server.stop()
    return box["r"], count[0]


def bench_kill(work: Path, n_pairs: int, iterations: int, jobs_per_round: int) -> dict:
    contest = make_contest(work, "kill", n_pairs, daily_limit=10_000)
    pair_ids = contest.answers.pair_ids.tolist()
    rng = np.random.default_rng(3)
    chooser = random.Random(3)
    tokens = [contest.store.add_team(f"team {k:02d}")[1] for k in range(20)]
    port = free_port()
    totals = {
        "iterations": iterations,
        "sent": 0,
        "accepted": 0,
        "lost": 0,
        "stored_twice": 0,
        "committed_unanswered": 0,
    }
    for it in range(iterations):
        jobs = [
            Job(tokens[k % 20], submission(pair_ids, rng), key=f"r{it}-j{k}") for k in range(jobs_per_round)
        ]
        target = chooser.randint(1, jobs_per_round // 2)
        server = ServerProcess(contest.paths["root"], port, serve_args=OPEN).start()
        first, answered_before_kill = load_until_killed(server, jobs, target)
        mine = {j.sha256 for j in jobs}
        committed = len({s.sha256 for s in contest.store.submissions()} & mine)
        totals["committed_unanswered"] += committed - len(first.accepted())
        with ServerProcess(contest.paths["root"], port, serve_args=OPEN) as restarted:
            retry = run_load(restarted.url, [a.job for a in first.answers if a.status != 200], timeout=120)
        answered = {a.job.key: a for a in first.accepted()} | {a.job.key: a for a in retry.accepted()}
        stored = contest.store.submissions()
        by_id = {s.id: s for s in stored}
        lost = sum(
            1
            for a in answered.values()
            if by_id.get(a.body["id"]) is None or by_id[a.body["id"]].sha256 != a.job.sha256
        )
        per_sha: dict[str, int] = {}
        for s in stored:
            if s.sha256 in mine:
                per_sha[s.sha256] = per_sha.get(s.sha256, 0) + 1
        totals["sent"] += len(jobs)
        totals["accepted"] += len(answered)
        totals["lost"] += lost
        totals["stored_twice"] += sum(n - 1 for n in per_sha.values() if n > 1)
        problems = contest.store.integrity_problems()
        assert not problems, problems
        print(
            f"kill {it + 1}/{iterations}: killed after {answered_before_kill} answers, "
            f"{len(answered)} accepted in all, {lost} lost"
        )
    return totals


# --- tables ----------------------------------------------------------------------------
def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def tables(results: dict) -> str:
    lines: list[str] = []
    up = results.get("uploads")
    if up:
        seq, solo = up["sequential_per_second"], up["in_process_per_second"]
        lines += [
            f"Uploads ({up['pairs']} pairs, {up['file_kib']:.0f} KiB files, 20 teams, one connection each):",
            "",
            row("concurrent uploads", "accepted", "submissions/s", "vs one at a time", "vs in-process")[:-2]
            + " | reply lag median / max | checked |",
            "|---|---|---|---|---|---|---|",
        ]
        for lv in up["levels"]:
            rate = lv["per_second"]
            lines.append(
                row(
                    lv["concurrent"],
                    f"{lv['accepted']}/{lv['concurrent']}",
                    f"**{rate:.1f}**",
                    f"{rate / seq:.2f}",
                    f"{rate / solo:.2f}",
                    f"{lv['reply_lag_median_s']:.2f} s / {lv['reply_lag_max_s']:.2f} s",
                    "yes" if not lv["problems"] and not lv["wrong_scores"] else "NO",
                )
            )
        lines += [
            "",
            f"References in the same run: one at a time over HTTP {seq:.1f}/s; "
            f"`Contest.submit` in-process {solo:.1f}/s.",
            "",
        ]
    lb = results.get("leaderboard")
    if lb:
        ceiling = lb["uncached_ceiling_per_second"]
        busy = f"`GET /api/leaderboard` while {lb['commits_per_second']:.1f} commits/s invalidate it"
        lines += [
            f"Leaderboard at {lb['submissions']:,} submissions, {lb['teams']} teams "
            "(8 keep-alive connections):",
            "",
            row("request", "GETs/s", "vs recomputing per GET"),
            "|---|---|---|",
            row(
                "`GET /api/leaderboard`",
                f"**{lb['json_per_second']:.0f}**",
                f"{lb['json_per_second'] / ceiling:.1f} x",
            ),
            row(
                "`GET /` (HTML)",
                f"**{lb['html_per_second']:.0f}**",
                f"{lb['html_per_second'] / ceiling:.1f} x",
            ),
            row(
                busy,
                f"{lb['json_per_second_with_commits']:.0f}",
                f"{lb['json_per_second_with_commits'] / ceiling:.1f} x",
            ),
        ]
        if "baseline_json_per_second" in lb:
            old = lb["baseline_json_per_second"]
            lines.append(
                row(
                    "`GET /api/leaderboard`, previous release (no cache)",
                    f"{old:.1f}",
                    f"{old / ceiling:.2f} x",
                )
            )
        lines += [
            "",
            f"Reference: one recomputation takes {lb['recompute_ms']:.1f} ms in-process "
            f"(a ceiling of {ceiling:.0f} GETs/s without the cache); served rows equal the "
            f"in-process leaderboard: {'yes' if lb['rows_match_in_process'] else 'NO'}.",
            "",
        ]
    rf = results.get("refused")
    if rf:
        alone, accepted = rf["honest_alone_median_ms"], rf["accepted_cpu_ms"]
        paced, flood = rf["honest_during_paced_median_ms"], rf["honest_during_flood_median_ms"]
        lines += [
            f"Refused uploads ({rf['file_kib']:.0f} KiB files sent whole by 16 connections; the server "
            "answers on the headers; any upload that got in is counted in the CPU time too):",
            "",
            row("refused because", "refused/s", "server CPU per request", "vs an accepted upload"),
            "|---|---|---|---|",
        ]
        for kind, k in rf["kinds"].items():
            cpu = k["server_cpu_ms"]
            lines.append(row(kind, f"{k['per_second']:.0f}", f"{cpu:.2f} ms", f"{cpu / accepted:.3f}"))
        lines += [
            "",
            f"An accepted upload costs {accepted:.1f} ms of server CPU. An honest team's upload "
            f"(median of {rf['honest_count']}) took {alone:.0f} ms alone, {paced:.0f} ms (ratio "
            f"{paced / alone:.2f}) while another team's uploads were refused at "
            f"{rf['paced_refused_per_second']:.0f}/s (the red team's rate was 85/s), and {flood:.0f} ms "
            f"(ratio {flood / alone:.2f}) at {rf['flood_refused_per_second']:.0f} refused/s.",
            "",
        ]
    kl = results.get("kill")
    if kl:
        lines += [
            row("kill -9 rounds", "uploads sent", "accepted (200, first try or retry)")[:-2]
            + " | committed but unanswered at the kill | lost | stored twice |",
            "|---|---|---|---|---|---|",
            row(
                kl["iterations"],
                kl["sent"],
                kl["accepted"],
                kl["committed_unanswered"],
                f"**{kl['lost']}**",
                f"**{kl['stored_twice']}**",
            ),
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="uploads,leaderboard,refused,kill")
    parser.add_argument("--pairs", type=int, default=6000)
    parser.add_argument("--levels", default="20,100,300", help="concurrent uploads")
    parser.add_argument("--sequential", type=int, default=40)
    parser.add_argument("--board-submissions", type=int, default=30_000)
    parser.add_argument("--board-teams", type=int, default=300)
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="duration of each GET and flood measurement"
    )
    parser.add_argument("--kill-rounds", type=int, default=12)
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="also serve the leaderboard with the facemetric found in this src/ folder",
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--table", type=Path, help="print the docs tables of a JSON file and exit")
    args = parser.parse_args()
    if args.table:
        print(tables(json.loads(args.table.read_text())))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-challenge-"))
    parts = args.parts.split(",")
    results: dict = {
        "command": "benchmarks/bench_challenge.py "
        + " ".join(
            f"--{k.replace('_', '-')} {v}"
            for k, v in vars(args).items()
            if v is not None and k not in ("json", "table")
        )
    }
    try:
        if "uploads" in parts:
            results["uploads"] = bench_uploads(
                work, args.pairs, [int(x) for x in args.levels.split(",")], args.sequential
            )
        if "leaderboard" in parts:
            results["leaderboard"] = bench_leaderboard(
                work, args.board_submissions, args.board_teams, args.seconds, args.baseline_src
            )
        if "refused" in parts:
            results["refused"] = bench_refused(work, args.pairs, args.seconds, 40)
        if "kill" in parts:
            results["kill"] = bench_kill(work, 600, args.kill_rounds, 60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(tables(results))
    failed = [
        name
        for name, bad in (
            (
                "uploads",
                any(
                    lv["problems"] or lv["wrong_scores"]
                    for lv in results.get("uploads", {}).get("levels", [])
                ),
            ),
            ("leaderboard", not results.get("leaderboard", {}).get("rows_match_in_process", True)),
            (
                "kill",
                results.get("kill", {}).get("lost", 0) or results.get("kill", {}).get("stored_twice", 0),
            ),
        )
        if bad
    ]
    if failed:
        raise SystemExit(f"FAILED: {failed}")


if __name__ == "__main__":
    main()
