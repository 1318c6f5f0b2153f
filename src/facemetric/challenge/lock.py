"""The configuration lock: the settings that define the scores cannot change after creation.

Editing ``metric``, ``public_fraction``, ``seed`` (or ``n_pairs``, ``flip``) in ``challenge.json``,
or the hidden answers, in the middle of a contest would mix scores of two different contests
on one leaderboard. ``create_challenge`` records these settings and the SHA-256 of
``organiser/answers.csv`` in the database; every later opening compares them and refuses a
contest whose files no longer agree with what was recorded.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from facemetric.challenge.config import ChallengeConfig
from facemetric.errors import ConfigError

LOCKED_SETTINGS = ("metric", "public_fraction", "seed", "n_pairs", "flip")
META_KEY = "config_lock"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def lock_record(config: ChallengeConfig, answers: Path) -> str:
    """The JSON stored at creation: the locked settings and the answers' SHA-256."""
    data = {name: getattr(config, name) for name in LOCKED_SETTINGS}
    data["answers_sha256"] = file_sha256(answers)
    return json.dumps(data, sort_keys=True)


def check_lock(recorded: str, config: ChallengeConfig, answers: Path, config_path: Path) -> None:
    """Raise naming every locked value that differs from the record made at creation."""
    locked = json.loads(recorded)
    now = json.loads(lock_record(config, answers))
    changed = [name for name in LOCKED_SETTINGS if locked.get(name) != now[name]]
    if changed:
        what = ", ".join(f"{name} was {locked.get(name)!r}, now {now[name]!r}" for name in changed)
        raise ConfigError(
            f"{config_path}: locked setting(s) changed since the contest was created ({what}); "
            "restore them: scores of one contest must all use the same settings"
        )
    if locked.get("answers_sha256") != now["answers_sha256"]:
        raise ConfigError(
            f"{answers}: the hidden answers changed since the contest was created; restore the file "
            "from a backup (facemetric challenge backup)"
        )
