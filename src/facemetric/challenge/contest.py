"""A contest on disk: settings, hidden answers and store, and the one path every submission takes."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from facemetric.challenge.config import ChallengeConfig, contest_paths, load_config
from facemetric.challenge.lock import META_KEY, check_lock, lock_record
from facemetric.challenge.scoring import PUBLIC_DECIMALS, score_split
from facemetric.challenge.store import (
    ChallengeStore,
    ContestClosedError,
    Submission,
    Team,
    check_same_file,
    limit_error,
    utc_now,
)
from facemetric.challenge.submission import parse_submission
from facemetric.errors import bad_file
from facemetric.io.atomic import atomic_open

ANSWER_COLUMNS = ("pair_id", "label", "split")
REJECTED_COLUMN = "rejected"  # a fourth column when some pairs have an image without a descriptor


@dataclass(frozen=True, eq=False)
class Answers:
    """The hidden truth: pair ids in a fixed order, labels (1 = same) and the public mask.

    ``rejected`` marks the pairs with an image that had no descriptor (a failure to enrol): they
    are not in the bundle, and count as rejections for every team (scored below every submitted
    score, :mod:`facemetric.enrolment`). None when there are none.
    """

    pair_ids: np.ndarray
    labels: np.ndarray
    public: np.ndarray
    rejected: np.ndarray | None = None

    def index(self) -> dict[str, int]:
        """Pair id -> row, for the pairs a submission scores (the rejected ones are not asked for)."""
        keep = self.pair_ids.tolist()
        if self.rejected is None:
            return {p: i for i, p in enumerate(keep)}
        return {p: i for i, (p, r) in enumerate(zip(keep, self.rejected.tolist())) if not r}


def save_answers(answers: Answers, path: str | Path) -> None:
    rejected = answers.rejected if answers.rejected is not None and answers.rejected.any() else None
    with atomic_open(path, "w") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(ANSWER_COLUMNS + ((REJECTED_COLUMN,) if rejected is not None else ()))
        for k, (pid, label, pub) in enumerate(zip(answers.pair_ids, answers.labels, answers.public)):
            row = [pid, int(label), "public" if pub else "private"]
            writer.writerow(row + ([int(rejected[k])] if rejected is not None else []))


def load_answers(path: str | Path) -> Answers:
    path = Path(path)
    if not path.exists():
        raise bad_file(
            path, "does not exist", "the organiser folder of the contest is incomplete; re-create it"
        )
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows or tuple(rows[0]) not in (ANSWER_COLUMNS, ANSWER_COLUMNS + (REJECTED_COLUMN,)):
        raise bad_file(path, "lacks the header pair_id,label,split", "restore the organiser folder")
    with_rejected = len(rows[0]) == 4
    body = rows[1:]
    try:
        labels = np.array([int(r[1]) for r in body], dtype=np.int8)
        rejected = np.array([r[3] == "1" for r in body], dtype=bool) if with_rejected else None
    except (ValueError, IndexError) as exc:
        raise bad_file(path, f"has a malformed line ({exc})", "restore the organiser folder") from exc
    return Answers(
        pair_ids=np.array([r[0] for r in body], dtype=str),
        labels=labels,
        public=np.array([r[2] == "public" for r in body], dtype=bool),
        rejected=rejected,
    )


class Contest:
    """Open the contest in ``directory``; ``submit`` validates, scores and records a file.

    Opening refuses a contest whose locked settings or answers changed since its creation.
    """

    def __init__(self, directory: str | Path) -> None:
        self.paths = contest_paths(directory)
        self.config: ChallengeConfig = load_config(directory)
        self.store = ChallengeStore(self.paths["db"])
        self.store.check_exists()
        self.store.upgrade()
        recorded = self.store.get_meta(META_KEY)
        if recorded is None:  # a contest created before the lock existed: lock it as it is now
            self.store.set_meta(META_KEY, lock_record(self.config, self.paths["answers"]))
        else:
            check_lock(recorded, self.config, self.paths["answers"], self.paths["config"])
        self.answers = load_answers(self.paths["answers"])
        self.pair_index = self.answers.index()

    def score(self, scores: np.ndarray) -> tuple[float, float]:
        """(public, private) contest scores of per-pair scores in answer order.

        The public score is rounded to ``PUBLIC_DECIMALS`` decimals, here, before it is stored
        or shown anywhere: full precision would tell a crafted file's author the label of a pair.
        """
        a = self.answers
        seed = self.config.seed
        if a.rejected is not None:
            from facemetric.enrolment import floor_score

            scores = np.where(a.rejected, floor_score(scores[~a.rejected]), scores)
        public = score_split(self.config.metric, a.labels[a.public], scores[a.public], seed=seed)
        private = score_split(self.config.metric, a.labels[~a.public], scores[~a.public], seed=seed + 1)
        return round(public, PUBLIC_DECIMALS), private

    def check_can_submit(self, team: Team) -> None:
        """The cheap refusals, before any file is read: contest closed, daily limit used."""
        if self.is_closed():
            raise ContestClosedError("the contest is closed; submissions are no longer accepted")
        if not team.is_baseline and self.store.used_today(team.id) >= self.config.daily_limit:
            raise limit_error(self.config.daily_limit, utc_now().date().isoformat())

    def replay(self, team: Team, data: bytes, idempotency_key: str | None) -> Submission | None:
        """The earlier submission made under ``idempotency_key`` (same bytes required), or None."""
        if idempotency_key is None:
            return None
        earlier = self.store.find_idempotent(team.id, idempotency_key)
        if earlier is None:
            return None
        check_same_file(earlier, hashlib.sha256(data).hexdigest())
        return replace(earlier, replayed=True)

    def submit(
        self, team: Team, data: bytes, *, enforce_limit: bool = True, idempotency_key: str | None = None
    ) -> Submission:
        """Check ``data`` (CSV bytes), score it from the stored answers and record it atomically.

        With ``idempotency_key``, a key the team used before returns the earlier submission
        (``replayed=True``), counted once, without scoring again.
        """
        earlier = self.replay(team, data, idempotency_key)
        if earlier is not None:
            return earlier
        scores = parse_submission(data, self.pair_index, max_bytes=self.config.max_upload_bytes,
                                  n_rows=len(self.answers.pair_ids))
        public, private = self.score(scores)
        limit = self.config.daily_limit if enforce_limit and not team.is_baseline else None
        return self.store.add_submission(
            team.id, data, public, private, daily_limit=limit, idempotency_key=idempotency_key
        )

    def is_closed(self) -> bool:
        return self.store.closed_at() is not None
