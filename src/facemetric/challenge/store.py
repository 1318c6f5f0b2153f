"""The contest's SQLite store: teams (token hashes only), submissions and their files.

One connection per worker thread, WAL mode, a busy timeout, and ``synchronous=FULL``: an
accepted submission (file, scores, team) is written in one transaction, so a killed
server never leaves half of one. Uploaded bytes live in the database, addressed by their
SHA-256; no client-chosen file name is ever used.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from facemetric.challenge.tokens import hash_token, new_token, token_matches
from facemetric.errors import ConfigError, InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    token_hash TEXT UNIQUE,
    is_baseline INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    created_at TEXT NOT NULL,
    day TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    n_bytes INTEGER NOT NULL,
    public_score REAL NOT NULL,
    private_score REAL NOT NULL,
    selected INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS submissions_by_team_day ON submissions (team_id, day);
"""

MAX_TEAM_NAME = 64


class ContestClosedError(InputError):
    """The contest is closed: no more submissions, teams or final choices."""


class LimitError(InputError):
    """A team has used its submissions for the day."""


class NotFoundError(InputError):
    """No such team or submission (for this team)."""


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    is_baseline: bool


@dataclass(frozen=True)
class Submission:
    id: int
    team_id: int
    created_at: str
    sha256: str
    n_bytes: int
    public_score: float
    private_score: float
    selected: bool


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def check_team_name(name: str) -> str:
    """Strip and validate a team name; any printable text up to 64 characters is allowed."""
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise InputError("team name is empty; give a name of 1 to 64 printable characters")
    if len(name) > MAX_TEAM_NAME:
        raise InputError(f"team name has {len(name)} characters; use at most {MAX_TEAM_NAME}")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InputError("team name contains control characters; use printable characters only")
    return name


class ChallengeStore:
    """All reads and writes of one contest database."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    # --- connections -------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (a pool of one per worker thread), in autocommit mode.

        Keeping connections open spares the checkpoint SQLite runs when the last one closes;
        callers open transactions explicitly with :meth:`transaction`.
        """
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        yield conn

    def disconnect(self) -> None:
        """Close this thread's connection (before moving or copying the database)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def initialize(self) -> None:
        """Create the tables (idempotent) and switch the file to WAL mode."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as conn:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise ConfigError(f"{self.path}: SQLite refused WAL mode (got {mode}); use a local disk")
            conn.executescript(SCHEMA)

    def check_exists(self) -> None:
        if not self.path.exists():
            raise InputError(f"{self.path}: contest database not found; create the contest first")

    # --- meta --------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.connect() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def new_admin_token(self) -> str:
        """Create (or replace) the admin token; returns it once, stores its hash."""
        token = new_token()
        self.set_meta("admin_token_hash", hash_token(token))
        return token

    def is_admin(self, token: str) -> bool:
        stored = self.get_meta("admin_token_hash")
        return stored is not None and token_matches(token, stored)

    def closed_at(self) -> str | None:
        return self.get_meta("closed_at")

    def close(self) -> str:
        """Close the contest (idempotent); returns the closing time."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'closed_at'").fetchone()
            if row is not None:
                return str(row[0])
            stamp = utc_now().isoformat(timespec="seconds")
            conn.execute("INSERT INTO meta (key, value) VALUES ('closed_at', ?)", (stamp,))
        return stamp

    # --- teams -------------------------------------------------------------------
    def add_team(self, name: str, *, baseline: bool = False) -> tuple[Team, str | None]:
        """Add a team; returns it and its token (None for baselines, which never log in)."""
        name = check_team_name(name)
        token = None if baseline else new_token()
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'closed_at'").fetchone():
                raise ContestClosedError("the contest is closed; no new teams can join")
            key = name.casefold()
            if conn.execute("SELECT 1 FROM teams WHERE name_key = ?", (key,)).fetchone():
                raise InputError(f"a team named {name!r} already exists; choose another name")
            cur = conn.execute(
                "INSERT INTO teams (name, name_key, token_hash, is_baseline, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    name,
                    key,
                    None if token is None else hash_token(token),
                    int(baseline),
                    utc_now().isoformat(timespec="seconds"),
                ),
            )
            team = Team(id=int(cur.lastrowid), name=name, is_baseline=baseline)
        return team, token

    def team_for_token(self, token: str) -> Team | None:
        """The team owning ``token``, or None."""
        digest = hash_token(token)
        with self.connect() as conn:
            row = conn.execute(
                "SELECT id, name, is_baseline, token_hash FROM teams WHERE token_hash = ?", (digest,)
            ).fetchone()
        if row is None or not token_matches(token, row["token_hash"]):
            return None
        return Team(id=int(row["id"]), name=str(row["name"]), is_baseline=bool(row["is_baseline"]))

    def teams(self) -> list[Team]:
        with self.connect() as conn:
            rows = conn.execute("SELECT id, name, is_baseline FROM teams ORDER BY id").fetchall()
        return [Team(id=int(r[0]), name=str(r[1]), is_baseline=bool(r[2])) for r in rows]

    # --- submissions -------------------------------------------------------------
    def add_submission(
        self, team_id: int, data: bytes, public_score: float, private_score: float, *, daily_limit: int | None
    ) -> Submission:
        """Record one scored submission atomically; enforce the daily limit inside the transaction."""
        now = utc_now()
        day = now.date().isoformat()
        digest = hashlib.sha256(data).hexdigest()
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'closed_at'").fetchone():
                raise ContestClosedError("the contest is closed; submissions are no longer accepted")
            if daily_limit is not None:
                used = conn.execute(
                    "SELECT COUNT(*) FROM submissions WHERE team_id = ? AND day = ?", (team_id, day)
                ).fetchone()[0]
                if used >= daily_limit:
                    raise LimitError(
                        f"your team has used its {daily_limit} submissions for {day} (UTC); "
                        "try again after midnight UTC"
                    )
            conn.execute("INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)", (digest, data))
            cur = conn.execute(
                "INSERT INTO submissions"
                " (team_id, created_at, day, sha256, n_bytes, public_score, private_score)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    team_id,
                    now.isoformat(timespec="milliseconds"),
                    day,
                    digest,
                    len(data),
                    float(public_score),
                    float(private_score),
                ),
            )
            sub_id = int(cur.lastrowid)
        return Submission(
            sub_id,
            team_id,
            now.isoformat(timespec="milliseconds"),
            digest,
            len(data),
            float(public_score),
            float(private_score),
            False,
        )

    def submissions(self, team_id: int | None = None) -> list[Submission]:
        """All submissions, or one team's, oldest first."""
        query = (
            "SELECT id, team_id, created_at, sha256, n_bytes, public_score, private_score, selected "
            "FROM submissions"
        )
        args: tuple = ()
        if team_id is not None:
            query += " WHERE team_id = ?"
            args = (team_id,)
        with self.connect() as conn:
            rows = conn.execute(query + " ORDER BY id", args).fetchall()
        return [
            Submission(
                int(r[0]), int(r[1]), str(r[2]), str(r[3]), int(r[4]), float(r[5]), float(r[6]), bool(r[7])
            )
            for r in rows
        ]

    def submission_file(self, team_id: int, submission_id: int) -> bytes:
        """The bytes a team submitted; another team's submission is reported as not found."""
        with self.connect() as conn:
            row = conn.execute(
                "SELECT b.data FROM submissions s JOIN blobs b ON b.sha256 = s.sha256 "
                "WHERE s.id = ? AND s.team_id = ?",
                (submission_id, team_id),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"your team has no submission {submission_id}")
        return bytes(row[0])

    def select_final(self, team_id: int, submission_ids: list[int], *, max_final: int) -> None:
        """Replace a team's choice of final submissions (empty: back to its best public one)."""
        ids = sorted(set(int(i) for i in submission_ids))
        if len(ids) > max_final:
            raise InputError(f"choose at most {max_final} final submission(s); got {len(ids)}")
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'closed_at'").fetchone():
                raise ContestClosedError("the contest is closed; final submissions can no longer change")
            for sub_id in ids:
                if not conn.execute(
                    "SELECT 1 FROM submissions WHERE id = ? AND team_id = ?", (sub_id, team_id)
                ).fetchone():
                    raise NotFoundError(f"your team has no submission {sub_id}")
            conn.execute("UPDATE submissions SET selected = 0 WHERE team_id = ?", (team_id,))
            conn.executemany(
                "UPDATE submissions SET selected = 1 WHERE id = ? AND team_id = ?",
                [(i, team_id) for i in ids],
            )

    def integrity_problems(self) -> list[str]:
        """Consistency checks used after a crash: SQLite's own check plus orphan rows."""
        with self.connect() as conn:
            problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
            orphans = conn.execute(
                "SELECT COUNT(*) FROM submissions s LEFT JOIN blobs b ON b.sha256 = s.sha256"
                " WHERE b.sha256 IS NULL"
            ).fetchone()[0]
            if orphans:
                problems.append(f"{orphans} submission(s) without their file")
        return problems
