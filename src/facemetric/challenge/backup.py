"""``backup_contest``: a consistent copy of a contest, taken while its server runs.

Copying ``challenge.db`` by hand misses what is still in its write-ahead log (``challenge.db-wal``)
and can catch a page mid-write. SQLite's online backup API copies a consistent snapshot that
includes the log. ``OUT`` is either a new folder, which becomes a complete contest
(``challenge.json``, ``organiser/``, ``bundle/`` and the database: ``facemetric challenge serve
OUT`` runs it), or a file name ending in ``.db``, for the database alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from facemetric.challenge.config import BUNDLE_DIR, CONFIG_NAME, DB_NAME, contest_paths
from facemetric.challenge.store import ChallengeStore
from facemetric.errors import ConfigError

DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def backup_contest(directory: str | Path, out: str | Path) -> tuple[Path, int]:
    """Copy the contest in ``directory`` to ``out``; return the database copy and its submissions."""
    paths = contest_paths(directory)
    store = ChallengeStore(paths["db"])
    store.check_exists()
    out = Path(out)
    if out.suffix.lower() in DB_SUFFIXES:
        if out.exists():
            raise ConfigError(f"{out}: already exists; choose a new file for the backup")
        return out, store.backup(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out}: already exists and is not empty; choose a new folder for the backup")
    out.mkdir(parents=True, exist_ok=True)
    count = store.backup(out / DB_NAME)  # the database first: the files below never change
    shutil.copyfile(paths["config"], out / CONFIG_NAME)
    for folder in (paths["answers"].parent.name, BUNDLE_DIR):
        shutil.copytree(paths["root"] / folder, out / folder, copy_function=shutil.copyfile)
    return out / DB_NAME, count
