"""A contest's settings and folder layout.

A contest directory holds::

    challenge.json         settings (this module's ChallengeConfig)
    challenge.db           SQLite store: teams, token hashes, submissions (WAL mode)
    organiser/answers.csv  the hidden answers: pair_id,label,split (public|private)
    organiser/test_ids.csv the map from anonymous test ids to the original image ids
    organiser/secret.json  the secret seed of every order participants see
    bundle/                what participants download (see facemetric.challenge.bundle)

The settings that define the scores are locked when the contest is created (see
:mod:`facemetric.challenge.lock`); ``title``, ``daily_limit``, ``max_final`` and
``max_upload_bytes`` may be edited between two runs of the server.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from facemetric.errors import ConfigError, bad_file
from facemetric.io.atomic import write_text_atomic

CONFIG_NAME = "challenge.json"
DB_NAME = "challenge.db"
ANSWERS_NAME = "organiser/answers.csv"
TEST_IDS_NAME = "organiser/test_ids.csv"
SECRET_NAME = "organiser/secret.json"
BUNDLE_DIR = "bundle"


@dataclass(frozen=True)
class ChallengeConfig:
    """A contest's settings (see the module docstring for which ones may be edited later)."""

    title: str = "facemetric challenge"
    metric: str = "auc"
    public_fraction: float = 0.3
    seed: int = 0
    daily_limit: int = 5
    max_final: int = 2
    max_upload_bytes: int = 1 << 20
    n_pairs: int = 0
    flip: str = "sum"

    def __post_init__(self) -> None:
        if not 0.0 < self.public_fraction < 1.0:
            raise ConfigError(f"public fraction must be strictly between 0 and 1; got {self.public_fraction}")
        if self.daily_limit < 1:
            raise ConfigError(f"daily limit must be at least 1 submission per team; got {self.daily_limit}")
        if self.max_final < 1:
            raise ConfigError(f"max final must be at least 1; got {self.max_final}")
        if self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer; got {self.seed}")
        if self.max_upload_bytes < 64:
            raise ConfigError(f"max upload size must be at least 64 bytes; got {self.max_upload_bytes}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def contest_paths(directory: str | Path) -> dict[str, Path]:
    root = Path(directory)
    return {
        "root": root,
        "config": root / CONFIG_NAME,
        "db": root / DB_NAME,
        "answers": root / ANSWERS_NAME,
        "test_ids": root / TEST_IDS_NAME,
        "secret": root / SECRET_NAME,
        "bundle": root / BUNDLE_DIR,
    }


def save_config(config: ChallengeConfig, directory: str | Path) -> Path:
    path = contest_paths(directory)["config"]
    write_text_atomic(path, config.to_json() + "\n")
    return path


def load_config(directory: str | Path) -> ChallengeConfig:
    path = contest_paths(directory)["config"]
    if not path.exists():
        raise bad_file(path, "does not exist", "give a directory made by 'facemetric challenge create'")
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_file(
            path, f"is not valid JSON ({exc})", "restore it from a backup or re-create the contest"
        ) from exc
    known = {f.name for f in fields(ChallengeConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise bad_file(path, f"has unknown setting(s) {unknown}", f"known settings are {sorted(known)}")
    return ChallengeConfig(**data)
