"""The contest's SQLite store: teams (token hashes only), submissions and their files.

One connection per worker thread, WAL mode, a busy timeout, and ``synchronous=FULL``: an
accepted submission (file, scores, team) is written in one transaction, so a killed
server never leaves half of one. Uploaded bytes live in the database, addressed by their
SHA-256; no client-chosen file name is ever used.

Every write transaction also increments the ``generation`` counter in ``meta``, so that any
process can tell cheaply whether anything changed (the server's leaderboard cache uses it).
A database that cannot be read or written (read-only folder, full or failing disk, a lock held
too long) raises :class:`StoreUnavailableError`, which the server answers with a 503.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from facemetric.challenge.names import check_new_name, check_team_name
from facemetric.challenge.tokens import hash_token, new_token, token_matches
from facemetric.errors import ConfigError, FacemetricError, InputError
from facemetric.io.atomic import atomic_path

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
CREATE INDEX IF NOT EXISTS submissions_by_team_public ON submissions (team_id, public_score DESC, id);
CREATE TABLE IF NOT EXISTS idempotency (
    team_id INTEGER NOT NULL REFERENCES teams(id),
    key TEXT NOT NULL,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    PRIMARY KEY (team_id, key)
);
"""

SUBMISSION_COLUMNS = "id, team_id, created_at, sha256, n_bytes, public_score, private_score, selected"
BY_IDEMPOTENCY_KEY = (
    f"SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id = "
    "(SELECT submission_id FROM idempotency WHERE team_id = ? AND key = ?)"
)
MAX_ID = 2**63 - 1  # SQLite's INTEGER range; larger ids cannot exist


class ContestClosedError(InputError):
    """The contest is closed: no more submissions, teams or final choices."""


class LimitError(InputError):
    """A team has used its submissions for the day."""


class NotFoundError(InputError):
    """No such team or submission (for this team)."""


class IdempotencyConflictError(InputError):
    """An ``Idempotency-Key`` was used before for another file."""


class StoreUnavailableError(FacemetricError):
    """The database cannot be read or written now (permissions, full or failing disk, a long lock)."""

    def __init__(self, path: Path, cause: BaseException) -> None:
        self.path = path
        self.cause = str(cause)
        super().__init__(
            f"{path}: the contest database cannot be used ({cause}); check the folder's permissions "
            "and the free disk space"
        )


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
    replayed: bool = False  # True when an Idempotency-Key returned this earlier submission


@dataclass(frozen=True)
class TeamSummary:
    """What the leaderboard needs of one team, read in one consistent snapshot."""

    team: Team
    entries: int
    last_submission: str | None
    best_public: Submission | None  # earliest of the best public ones
    selected: list[Submission]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _submission(row) -> Submission:
    return Submission(
        int(row[0]),
        int(row[1]),
        str(row[2]),
        str(row[3]),
        int(row[4]),
        float(row[5]),
        float(row[6]),
        bool(row[7]),
    )


def _is_storage_failure(exc: BaseException) -> bool:
    """Operational errors (I/O, full disk, read-only, locked) and a damaged file; not caller mistakes."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


def _short_id(value: int) -> str:
    text = str(value)
    return text if len(text) <= 20 else text[:17] + "..."


def check_submission_id(value: int) -> int:
    """Refuse ids outside SQLite's integer range as unknown (rather than overflowing)."""
    if not 0 < value <= MAX_ID:
        raise NotFoundError(f"your team has no submission {_short_id(value)}")
    return value


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
        callers open transactions explicitly with :meth:`transaction`. A storage failure closes
        the connection (the next call opens a fresh one) and raises :class:`StoreUnavailableError`.
        """
        try:
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self._open()
            yield conn
        except sqlite3.Error as exc:
            if not _is_storage_failure(exc):
                raise
            self.disconnect()
            raise StoreUnavailableError(self.path, exc) from exc

    def disconnect(self) -> None:
        """Close this thread's connection (before moving or copying the database)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            try:
                conn.close()
            except sqlite3.Error:
                pass

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... bump the generation, ``COMMIT``; rolled back on any error."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('generation', '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                )
            except BaseException:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise
            conn.execute("COMMIT")

    def initialize(self) -> None:
        """Create the tables (idempotent) and switch the file to WAL mode.

        The file is created here, empty, with the umask's permissions (SQLite would use 0644
        whatever the umask); its -wal and -shm files then get the same permissions.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        with self.connect() as conn:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise ConfigError(f"{self.path}: SQLite refused WAL mode (got {mode}); use a local disk")
            conn.executescript(SCHEMA)

    def check_exists(self) -> None:
        if not self.path.exists():
            raise InputError(f"{self.path}: contest database not found; create the contest first")

    def check_writable(self) -> None:
        """One real write (the time the contest was last opened for serving), or StoreUnavailableError."""
        self.set_meta("last_served_at", utc_now().isoformat(timespec="seconds"))

    def upgrade(self) -> None:
        """Add what later versions need to a database made by an earlier one (tables, indexes)."""
        with self.connect() as conn:
            missing = [
                name
                for name in ("idempotency", "submissions_by_team_public")
                if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is None
            ]
            if missing:
                conn.executescript(SCHEMA)

    def backup(self, target: str | Path) -> int:
        """Copy the database to ``target`` with SQLite's online backup API; return its submissions.

        The copy is a consistent snapshot that includes what is still in the WAL, taken while the
        server keeps running; it is written next to ``target`` and renamed into place.
        """
        source = self._open()
        try:
            with atomic_path(target) as tmp:
                copy = sqlite3.connect(tmp)
                try:
                    source.backup(copy)
                    count = int(copy.execute("SELECT COUNT(*) FROM submissions").fetchone()[0])
                    problems = [
                        r[0] for r in copy.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"
                    ]
                finally:
                    copy.close()
                if problems:
                    raise ConfigError(
                        f"{self.path}: the backup failed SQLite's integrity check: {problems[0]}"
                    )
        except sqlite3.Error as exc:
            if not _is_storage_failure(exc):
                raise
            raise StoreUnavailableError(self.path, exc) from exc
        finally:
            source.close()
        return count

    # --- meta --------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.connect() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def generation(self) -> int:
        """A number that changes with every committed write, from any process."""
        value = self.get_meta("generation")
        return 0 if value is None else int(value)

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
        """Add a team; returns it and its token (None for baselines, which never log in).

        A name that looks like an existing one (see :mod:`facemetric.challenge.names`) is refused.
        """
        name = check_team_name(name)
        token = None if baseline else new_token()
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'closed_at'").fetchone():
                raise ContestClosedError("the contest is closed; no new teams can join")
            existing = [str(r[0]) for r in conn.execute("SELECT name FROM teams").fetchall()]
            check_new_name(name, existing, baseline=baseline)
            cur = conn.execute(
                "INSERT INTO teams (name, name_key, token_hash, is_baseline, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    name,
                    name.casefold(),
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
    def used_today(self, team_id: int) -> int:
        """How many submissions the team has made on the current UTC day."""
        day = utc_now().date().isoformat()
        with self.connect() as conn:
            return int(
                conn.execute(
                    "SELECT COUNT(*) FROM submissions WHERE team_id = ? AND day = ?", (team_id, day)
                ).fetchone()[0]
            )

    def find_idempotent(self, team_id: int, key: str) -> Submission | None:
        """The submission a team made under ``key``, if any."""
        with self.connect() as conn:
            row = conn.execute(BY_IDEMPOTENCY_KEY, (team_id, key)).fetchone()
        return None if row is None else _submission(row)

    def add_submission(
        self,
        team_id: int,
        data: bytes,
        public_score: float,
        private_score: float,
        *,
        daily_limit: int | None,
        idempotency_key: str | None = None,
    ) -> Submission:
        """Record one scored submission atomically; enforce the daily limit inside the transaction.

        With ``idempotency_key``, a key the team used before returns that earlier submission
        (``replayed=True``) without counting again, or raises if it was used for other bytes.
        """
        now = utc_now()
        day = now.date().isoformat()
        digest = hashlib.sha256(data).hexdigest()
        with self.transaction() as conn:
            if idempotency_key is not None:
                row = conn.execute(BY_IDEMPOTENCY_KEY, (team_id, idempotency_key)).fetchone()
                if row is not None:
                    earlier = _submission(row)
                    check_same_file(earlier, digest)
                    return replace(earlier, replayed=True)
            if conn.execute("SELECT 1 FROM meta WHERE key = 'closed_at'").fetchone():
                raise ContestClosedError("the contest is closed; submissions are no longer accepted")
            if daily_limit is not None:
                used = conn.execute(
                    "SELECT COUNT(*) FROM submissions WHERE team_id = ? AND day = ?", (team_id, day)
                ).fetchone()[0]
                if used >= daily_limit:
                    raise limit_error(daily_limit, day)
            conn.execute("INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)", (digest, data))
            stamp = now.isoformat(timespec="milliseconds")
            cur = conn.execute(
                "INSERT INTO submissions"
                " (team_id, created_at, day, sha256, n_bytes, public_score, private_score)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (team_id, stamp, day, digest, len(data), float(public_score), float(private_score)),
            )
            sub_id = int(cur.lastrowid)
            if idempotency_key is not None:
                conn.execute(
                    "INSERT INTO idempotency (team_id, key, submission_id) VALUES (?, ?, ?)",
                    (team_id, idempotency_key, sub_id),
                )
        return Submission(
            sub_id, team_id, stamp, digest, len(data), float(public_score), float(private_score), False
        )

    def submissions(self, team_id: int | None = None) -> list[Submission]:
        """All submissions, or one team's, oldest first."""
        query = f"SELECT {SUBMISSION_COLUMNS} FROM submissions"
        args: tuple = ()
        if team_id is not None:
            query += " WHERE team_id = ?"
            args = (team_id,)
        with self.connect() as conn:
            rows = conn.execute(query + " ORDER BY id", args).fetchall()
        return [_submission(r) for r in rows]

    def team_summaries(self) -> list[TeamSummary]:
        """Per team: entries, last submission, best public submission and chosen finals (one snapshot)."""
        with self.connect() as conn:
            conn.execute("BEGIN")
            try:
                teams = [
                    Team(int(r[0]), str(r[1]), bool(r[2]))
                    for r in conn.execute("SELECT id, name, is_baseline FROM teams ORDER BY id")
                ]
                counts = {
                    int(r[0]): (int(r[1]), str(r[2]))
                    for r in conn.execute(
                        "SELECT g.team_id, g.n, s.created_at FROM (SELECT team_id, COUNT(*) AS n, "
                        "MAX(id) AS last_id FROM submissions GROUP BY team_id) g "
                        "JOIN submissions s ON s.id = g.last_id"
                    )
                }
                best = {  # one index look-up per team (submissions_by_team_public)
                    s.team_id: s
                    for s in map(
                        _submission,
                        conn.execute(
                            f"SELECT {', '.join('s.' + c.strip() for c in SUBMISSION_COLUMNS.split(','))} "
                            "FROM teams t JOIN submissions s ON s.id = (SELECT id FROM submissions "
                            "WHERE team_id = t.id ORDER BY public_score DESC, id LIMIT 1)"
                        ),
                    )
                }
                selected: dict[int, list[Submission]] = {}
                for row in conn.execute(
                    f"SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE selected = 1 ORDER BY id"
                ):
                    sub = _submission(row)
                    selected.setdefault(sub.team_id, []).append(sub)
            finally:
                conn.execute("COMMIT")
        return [
            TeamSummary(
                team=t,
                entries=counts.get(t.id, (0, None))[0],
                last_submission=counts.get(t.id, (0, None))[1],
                best_public=best.get(t.id),
                selected=selected.get(t.id, []),
            )
            for t in teams
        ]

    def submission_file(self, team_id: int, submission_id: int) -> bytes:
        """The bytes a team submitted; another team's submission is reported as not found."""
        check_submission_id(submission_id)
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
        ids = sorted(set(check_submission_id(int(i)) for i in submission_ids))
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


def limit_error(daily_limit: int, day: str) -> LimitError:
    return LimitError(
        f"your team has used its {daily_limit} submissions for {day} (UTC); try again after midnight UTC"
    )


def check_same_file(earlier: Submission, digest: str) -> None:
    """An Idempotency-Key replays only the file it was first used with."""
    if earlier.sha256 != digest:
        raise IdempotencyConflictError(
            f"this Idempotency-Key was already used for another file (submission {earlier.id}); "
            "use a new key for a new file"
        )
