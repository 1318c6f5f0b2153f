"""Finding 7, the organiser side: failing disks, backups, the config lock, the close, the umask."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import sqlite3
import stat
import subprocess
import sys

import httpx
import pytest

from facemetric.challenge import ChallengeConfig, Contest, create_challenge, leaderboard
from facemetric.challenge.process import ServerProcess, free_port
from facemetric.cli.main import main


def serve_cmd(directory, port) -> list[str]:
    return [
        sys.executable,
        "-m",
        "facemetric.cli.main",
        "challenge",
        "serve",
        str(directory),
        "--port",
        str(port),
    ]


def no_file_writes() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # a disk that takes no byte more


def test_serve_refuses_a_disk_it_cannot_write_with_one_line(make_contest):
    directory, _ = make_contest()
    done = subprocess.run(
        serve_cmd(directory, free_port()),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=no_file_writes,
    )
    assert done.returncode == 1, done.stderr[-500:]
    # (A full disk also makes joblib warn, on import, that it cannot use shared memory: not ours.)
    ours = [line for line in done.stderr.strip().splitlines() if "joblib" not in line]
    assert len(ours) == 1 and ours[0].startswith("error: ") and "cannot write the contest database" in ours[0]
    assert "Traceback" not in done.stderr


READ_ONLY_MOUNT = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'


def test_serve_refuses_a_read_only_folder_with_one_line(make_contest):
    directory, _ = make_contest()
    cmd = serve_cmd(directory, free_port())
    if os.geteuid() == 0:  # root writes through permissions: mount the folder read-only instead
        probe = ["unshare", "-m", "sh", "-c", READ_ONLY_MOUNT, str(directory), "true"]
        if shutil.which("unshare") is None or subprocess.run(probe, capture_output=True).returncode != 0:
            pytest.skip("running as root and cannot mount the folder read-only (unshare -m) here")
        cmd = ["unshare", "-m", "sh", "-c", READ_ONLY_MOUNT, str(directory), *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    else:
        paths = [directory, *directory.rglob("*")]
        try:
            for p in paths:
                p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        finally:
            for p in paths:
                p.chmod(p.stat().st_mode | stat.S_IWUSR)
    assert done.returncode == 1, done.stderr[-500:]
    lines = done.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("error: ") and "cannot write the contest database" in lines[0]
    )


def test_a_write_that_fails_while_serving_answers_a_json_503(make_contest, helpers):
    directory, _ = make_contest()
    token = Contest(directory).store.add_team("unlucky")[1]
    with ServerProcess(directory, free_port()) as server:
        # From now on the server's files cannot grow: the disk is "full" for it.
        wal = directory / "challenge.db-wal"
        size = max(wal.stat().st_size if wal.exists() else 0, 1)
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (size, size))
        r = httpx.post(
            f"{server.url}/api/submissions",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("s.csv", helpers.random_submission(directory, 1))},
        )
        assert r.status_code == 503 and r.headers["retry-after"] == "60"
        assert "cannot be written" in r.json()["detail"]
        assert httpx.get(server.url + "/api/leaderboard").status_code == 200  # reads still work
        assert "disk I/O error" in server.log_text() or "full" in server.log_text()


def test_backup_while_serving_keeps_what_is_still_in_the_wal(make_contest, helpers, tmp_path, capsys):
    directory, _ = make_contest(daily_limit=10)
    token = Contest(directory).store.add_team("backed up")[1]
    with ServerProcess(directory, free_port()) as server:
        for seed in range(6):
            r = httpx.post(
                f"{server.url}/api/submissions",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("s.csv", helpers.random_submission(directory, 200 + seed))},
            )
            assert r.status_code == 200
        assert (directory / "challenge.db-wal").stat().st_size > 0  # the server holds them in the WAL
        shutil.copyfile(directory / "challenge.db", tmp_path / "naive.db")
        assert main(["challenge", "backup", str(directory), str(tmp_path / "copy")]) == 0
        assert main(["challenge", "backup", str(directory), str(tmp_path / "only.db")]) == 0
        out = capsys.readouterr().out
    assert "backed up 8 submission(s)" in out
    with contextlib.closing(sqlite3.connect(tmp_path / "naive.db")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] < 8  # what cp would keep
    with contextlib.closing(sqlite3.connect(tmp_path / "only.db")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 8
    copy = Contest(tmp_path / "copy")  # a complete contest: settings, answers, bundle, database
    assert len(copy.store.submissions()) == 8 and copy.store.integrity_problems() == []
    assert (tmp_path / "copy" / "bundle" / "test.npz").exists()
    assert main(["challenge", "backup", str(directory), str(tmp_path / "copy")]) == 1  # never overwrites


@pytest.mark.parametrize(
    "setting, value", [("metric", "accuracy"), ("public_fraction", 0.5), ("seed", 7), ("flip", "none")]
)
def test_locked_settings_cannot_change_mid_contest(make_contest, capsys, setting, value):
    directory, _ = make_contest()
    path = directory / "challenge.json"
    original = path.read_text()
    path.write_text(json.dumps({**json.loads(original), setting: value}))
    assert main(["challenge", "leaderboard", str(directory)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert f"{setting} was" in err and "locked setting" in err
    path.write_text(original)
    assert main(["challenge", "leaderboard", str(directory)]) == 0


def test_serve_refuses_a_changed_metric(make_contest):
    directory, _ = make_contest()
    path = directory / "challenge.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "metric": "accuracy"}))
    done = subprocess.run(serve_cmd(directory, free_port()), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.startswith("error: ") and "metric was 'auc'" in done.stderr


def test_edited_answers_are_refused_and_editable_settings_are_not(make_contest, capsys):
    directory, _ = make_contest()
    path = directory / "challenge.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "daily_limit": 9, "title": "Renamed"}))
    assert Contest(directory).config.daily_limit == 9
    answers = directory / "organiser" / "answers.csv"
    lines = answers.read_text().splitlines()
    pid, label, split = lines[1].split(",")
    answers.write_text("\n".join([lines[0], f"{pid},{1 - int(label)},{split}", *lines[2:]]) + "\n")
    assert main(["challenge", "leaderboard", str(directory)]) == 1
    assert "hidden answers changed" in capsys.readouterr().err


def test_close_prints_the_private_leaderboard(make_contest, helpers, capsys):
    directory, _ = make_contest()
    contest = Contest(directory)
    team, _ = contest.store.add_team("closer")
    contest.submit(team, helpers.random_submission(directory, 5))
    assert main(["challenge", "close", str(directory)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("contest closed at")
    assert lines[1].split() == ["team", "entries", "public", "private"]
    rows = {r.team: r for r in leaderboard(contest.store)}
    closer = next(line for line in lines if line.startswith("closer"))
    assert closer.split()[-1] == f"{rows['closer'].private:.5f}"


def test_after_the_close_public_is_the_ranked_final_submissions_own(make_contest, helpers):
    directory, _ = make_contest()
    contest = Contest(directory)
    team, _ = contest.store.add_team("chooser")
    subs = [
        contest.submit(team, helpers.cosine_submission(directory, noise, seed=k))
        for k, noise in enumerate((0.01, 1.0))
    ]
    best, chosen = sorted(subs, key=lambda s: -s.public_score)
    contest.store.select_final(team.id, [chosen.id], max_final=2)
    open_row = next(r for r in leaderboard(contest.store) if r.team == "chooser")
    assert open_row.public == best.public_score  # before the close: the best public score
    contest.store.close()
    row = next(r for r in leaderboard(contest.store) if r.team == "chooser")
    assert row.private == chosen.private_score and row.public == chosen.public_score != best.public_score


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_output_files_follow_the_umask(contest_data, tmp_path, umask, mode):
    train, test, protocol = contest_data
    old = os.umask(umask)
    try:
        create_challenge(train, test, protocol, tmp_path / "c", ChallengeConfig(max_upload_bytes=20_000))
        assert main(["challenge", "export", str(tmp_path / "c"), "--out", str(tmp_path / "board.csv")]) == 0
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "c").rglob("*") if p.is_file()] + [tmp_path / "board.csv"]
    assert {p.relative_to(tmp_path).as_posix() for p in files} >= {
        "c/bundle/test.npz", "c/bundle/sample_submission.csv", "c/organiser/answers.csv", "board.csv"
    }  # fmt: skip
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == mode, (p, oct(p.stat().st_mode))
    for d in (tmp_path / "c", tmp_path / "c" / "bundle"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o777 & ~umask
