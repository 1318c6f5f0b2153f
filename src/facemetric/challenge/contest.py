"""A contest on disk: settings, hidden answers and store, and the one path every submission takes."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facemetric.challenge.config import ChallengeConfig, contest_paths, load_config
from facemetric.challenge.scoring import score_split
from facemetric.challenge.store import ChallengeStore, Submission, Team
from facemetric.challenge.submission import parse_submission
from facemetric.errors import bad_file
from facemetric.io.atomic import atomic_open

ANSWER_COLUMNS = ("pair_id", "label", "split")


@dataclass(frozen=True, eq=False)
class Answers:
    """The hidden truth: pair ids in a fixed order, labels (1 = same) and the public mask."""

    pair_ids: np.ndarray
    labels: np.ndarray
    public: np.ndarray

    def index(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.pair_ids.tolist())}


def save_answers(answers: Answers, path: str | Path) -> None:
    with atomic_open(path, "w") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(ANSWER_COLUMNS)
        for pid, label, pub in zip(answers.pair_ids, answers.labels, answers.public):
            writer.writerow([pid, int(label), "public" if pub else "private"])


def load_answers(path: str | Path) -> Answers:
    path = Path(path)
    if not path.exists():
        raise bad_file(
            path, "does not exist", "the organiser folder of the contest is incomplete; re-create it"
        )
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows or tuple(rows[0]) != ANSWER_COLUMNS:
        raise bad_file(path, "lacks the header pair_id,label,split", "restore the organiser folder")
    body = rows[1:]
    try:
        labels = np.array([int(r[1]) for r in body], dtype=np.int8)
    except (ValueError, IndexError) as exc:
        raise bad_file(path, f"has a malformed line ({exc})", "restore the organiser folder") from exc
    return Answers(
        pair_ids=np.array([r[0] for r in body], dtype=str),
        labels=labels,
        public=np.array([r[2] == "public" for r in body], dtype=bool),
    )


class Contest:
    """Open the contest in ``directory``; ``submit`` validates, scores and records a file."""

    def __init__(self, directory: str | Path) -> None:
        self.paths = contest_paths(directory)
        self.config: ChallengeConfig = load_config(directory)
        self.store = ChallengeStore(self.paths["db"])
        self.store.check_exists()
        self.answers = load_answers(self.paths["answers"])
        self.pair_index = self.answers.index()

    def score(self, scores: np.ndarray) -> tuple[float, float]:
        """(public, private) contest scores of per-pair scores in answer order."""
        a = self.answers
        seed = self.config.seed
        public = score_split(self.config.metric, a.labels[a.public], scores[a.public], seed=seed)
        private = score_split(self.config.metric, a.labels[~a.public], scores[~a.public], seed=seed + 1)
        return public, private

    def submit(self, team: Team, data: bytes, *, enforce_limit: bool = True) -> Submission:
        """Check ``data`` (CSV bytes), score it from the stored answers and record it atomically."""
        scores = parse_submission(data, self.pair_index, max_bytes=self.config.max_upload_bytes)
        public, private = self.score(scores)
        limit = self.config.daily_limit if enforce_limit and not team.is_baseline else None
        return self.store.add_submission(team.id, data, public, private, daily_limit=limit)

    def is_closed(self) -> bool:
        return self.store.closed_at() is not None
