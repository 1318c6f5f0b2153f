"""Competition server under load: concurrent submissions on loopback, every one checked.

Creates a synthetic contest with LFW's size (6000 pairs), starts ``facemetric challenge serve``
in a child process, and fires ``teams x per_team`` submissions at once, one connection each.
It then checks that every accepted submission is stored exactly once with the bytes sent and
the scores sklearn gives them, and prints submissions/s against two references measured in
the same run: the same submissions sent one at a time over HTTP, and ``Contest.submit``
called in-process (no HTTP at all).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_challenge.py
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from facemetric.challenge import ChallengeConfig, Contest, create_challenge
from facemetric.challenge.load import Job, audit, run_load
from facemetric.challenge.process import ServerProcess, free_port
from facemetric.challenge.synthetic import synthetic_contest_data


def submission(pair_ids: list[str], rng: np.random.Generator) -> bytes:
    order = rng.permutation(len(pair_ids))
    return ("pair_id,score\n" + "".join(f"{pair_ids[i]},{rng.standard_normal()!r}\n" for i in order)).encode()


def sklearn_scores(contest: Contest, data: bytes) -> tuple[float, float]:
    rows = dict(csv.reader(io.StringIO(data.decode())))
    rows.pop("pair_id")
    a = contest.answers
    scores = np.array([float(rows[p]) for p in a.pair_ids])
    return (
        roc_auc_score(a.labels[a.public], scores[a.public]),
        roc_auc_score(a.labels[~a.public], scores[~a.public]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--per-team", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=6000)
    parser.add_argument(
        "--sequential", type=int, default=40, help="submissions of the one-at-a-time reference"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-challenge-"))
    train, test, protocol = synthetic_contest_data(
        n_test_people=max(20, args.pairs // 14), n_pairs=args.pairs, dim=128, seed=0
    )
    n_total = args.teams * args.per_team
    config = ChallengeConfig(daily_limit=args.per_team + args.sequential, max_upload_bytes=64 * args.pairs)
    created = create_challenge(train, test, protocol, work / "contest", config)
    contest = Contest(created.directory)
    pair_ids = contest.answers.pair_ids.tolist()
    rng = np.random.default_rng(0)
    tokens = [contest.store.add_team(f"team {k:02d}")[1] for k in range(args.teams)]
    jobs = [Job(tokens[k % args.teams], submission(pair_ids, rng)) for k in range(n_total)]
    size_kib = np.mean([len(j.data) for j in jobs]) / 1024

    with ServerProcess(created.directory, free_port()) as server:
        result = run_load(server.url, jobs, timeout=300)
        import httpx

        seq_jobs = [Job(tokens[0], submission(pair_ids, rng)) for _ in range(args.sequential)]
        start = time.perf_counter()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for job in seq_jobs:
                r = client.post(
                    "/api/submissions",
                    headers={"Authorization": f"Bearer {job.token}"},
                    files={"file": ("s.csv", job.data)},
                )
                assert r.status_code == 200, r.text
        sequential = args.sequential / (time.perf_counter() - start)

    solo, _ = contest.store.add_team("in-process")
    start = time.perf_counter()
    for job in seq_jobs:
        contest.submit(solo, job.data)
    in_process = args.sequential / (time.perf_counter() - start)

    problems = audit(contest.store, result)
    accepted = result.accepted()
    wrong = 0
    by_id = {s.id: s for s in contest.store.submissions()}
    for answer in accepted:
        sub = by_id[answer.body["id"]]
        pub, priv = sklearn_scores(contest, answer.job.data)
        wrong += abs(sub.public_score - pub) > 1e-12 or abs(sub.private_score - priv) > 1e-12
    statuses = sorted({a.status for a in result.answers})
    print(f"contest: {args.pairs} pairs, submission files of {size_kib:.0f} KiB, {args.teams} teams")
    print(
        f"concurrent: {len(accepted)}/{n_total} accepted (statuses {statuses}) in {result.seconds:.2f} s "
        f"-> {result.throughput():.1f} submissions/s"
    )
    print(
        f"reference, one at a time over HTTP: {sequential:.1f} submissions/s "
        f"(concurrent/sequential = {result.throughput() / sequential:.2f})"
    )
    print(
        f"reference, Contest.submit in-process: {in_process:.1f} submissions/s "
        f"(concurrent/in-process = {result.throughput() / in_process:.2f})"
    )
    print(f"recorded exactly once with the bytes sent: {'yes' if not problems else problems[:3]}")
    print(f"scores equal to sklearn's (1e-12): {len(accepted) - wrong}/{len(accepted)}")
    shutil.rmtree(work, ignore_errors=True)
    if problems or wrong or len(accepted) != n_total:
        raise SystemExit("FAILED")


if __name__ == "__main__":
    main()
