"""Leaderboard rows from the store, their CSV export, and a cache that follows every commit.

Public board: each team's best public score. After the close, each team is ranked by the best
private score among its chosen final submissions (by default its best public one), and the
public column shows the public score of that same submission. Baselines are shown as rows
without a rank.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from dataclasses import asdict, dataclass
from typing import Callable, TypeVar

from facemetric.challenge.store import ChallengeStore, Submission

# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
CSV_TRIGGERS = "=+-@\t\r"
# Spreadsheets split a line on the separator of their locale, not only on ","; a trigger that
# follows any of these (or the start of the cell, spaces allowed in between) starts a cell there.
CSV_SEPARATORS = ",;\t|"
_FORMULA_START = re.compile(f"(^|[{re.escape(CSV_SEPARATORS)}])( *)(?=[{re.escape(CSV_TRIGGERS)}])")
T = TypeVar("T")


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int | None
    team: str
    baseline: bool
    entries: int
    public: float | None
    private: float | None
    last_submission: str | None

    def to_dict(self, *, closed: bool) -> dict:
        row = asdict(self)
        if not closed:
            row.pop("private")
        return row


def final_submissions(subs: list[Submission]) -> list[Submission]:
    """A team's chosen finals, or its best public submission (earliest on ties) when none is chosen."""
    chosen = [s for s in subs if s.selected]
    if chosen or not subs:
        return chosen
    return [max(subs, key=lambda s: (s.public_score, -s.id))]


def leaderboard(store: ChallengeStore, *, closed: bool | None = None) -> list[LeaderboardRow]:
    """Rows sorted best first: by public score, or by private score once the contest is closed.

    After the close, ``public`` is the public score of the ranked final submission (the one
    whose private score counts), so that both columns describe the same file.
    """
    if closed is None:
        closed = store.closed_at() is not None
    entries = []
    for summary in store.team_summaries():
        best = summary.best_public
        shown = best
        if closed:
            finals = summary.selected or ([best] if best is not None else [])
            shown = max(finals, key=lambda s: (s.private_score, -s.id)) if finals else None
            score = shown.private_score if shown is not None else 0.0
        else:
            score = best.public_score if best is not None else 0.0
        key = (shown is not None, score, -(shown.id if shown is not None else 0))
        entries.append((key, summary, shown))
    entries.sort(key=lambda e: e[0], reverse=True)
    rows, rank = [], 0
    for key, summary, shown in entries:
        ranked = key[0] and not summary.team.is_baseline
        rank += ranked
        rows.append(
            LeaderboardRow(
                rank=rank if ranked else None,
                team=summary.team.name,
                baseline=summary.team.is_baseline,
                entries=summary.entries,
                public=shown.public_score if shown is not None else None,
                private=shown.private_score if (closed and shown is not None) else None,
                last_submission=summary.last_submission,
            )
        )
    return rows


class LeaderboardCache:
    """Renderings of the leaderboard, recomputed only after a commit (of any process).

    ``get(name, render)`` returns ``render(rows, closed)`` computed once per store generation;
    a GET between two commits costs one indexed read of the generation counter.
    """

    def __init__(self, store: ChallengeStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._views: dict[str, object] = {}

    def get(self, name: str, render: Callable[[list[LeaderboardRow], bool], T]) -> T:
        generation = self.store.generation()
        with self._lock:
            if generation != self._generation:
                self._generation, self._views = generation, {}
            if "rows" not in self._views:
                closed = self.store.closed_at() is not None
                self._views["rows"] = (leaderboard(self.store, closed=closed), closed)
            if name not in self._views:
                rows, closed = self._views["rows"]
                self._views[name] = render(rows, closed)
            return self._views[name]  # type: ignore[return-value]


def safe_cell(value: object) -> str:
    """Neutralise spreadsheet formulas in a text cell, for every separator a spreadsheet may use.

    A quote goes before each = + - @ (or tab/CR) that starts the cell or follows , ; tab or |,
    so that no locale's split of the line leaves a cell that starts a formula.
    """
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return _FORMULA_START.sub(lambda m: f"{m.group(1)}{m.group(2)}'", str(value))


def leaderboard_csv(rows: list[LeaderboardRow], *, closed: bool) -> str:
    """The leaderboard as CSV text, private scores only when ``closed``."""
    columns = (
        ["rank", "team", "baseline", "entries", "public"]
        + (["private"] if closed else [])
        + ["last_submission"]
    )
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        data = row.to_dict(closed=closed)
        writer.writerow([safe_cell(data[c]) for c in columns])
    return buf.getvalue()
