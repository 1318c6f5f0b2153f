"""Leaderboard rows from the store, and their CSV export.

Public board: each team's best public score. After the close, each team's private score is
the best private score among its chosen final submissions (by default its best public one).
Baselines are shown as rows without a rank.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass

from facemetric.challenge.store import ChallengeStore, Submission

CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


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
    """Rows sorted best first: by public score, or by private score once the contest is closed."""
    if closed is None:
        closed = store.closed_at() is not None
    by_team: dict[int, list[Submission]] = {}
    for sub in store.submissions():
        by_team.setdefault(sub.team_id, []).append(sub)
    entries = []
    for team in store.teams():
        subs = by_team.get(team.id, [])
        best = max(subs, key=lambda s: (s.public_score, -s.id)) if subs else None
        finals = final_submissions(subs)
        private = max(s.private_score for s in finals) if (closed and finals) else None
        if closed:
            best_final = max(finals, key=lambda s: (s.private_score, -s.id)) if finals else None
            key = (best_final is not None, private or 0.0, -(best_final.id if best_final else 0))
        else:
            key = (best is not None, best.public_score if best else 0.0, -(best.id if best else 0))
        entries.append((key, team, subs, best, private))
    entries.sort(key=lambda e: e[0], reverse=True)
    rows, rank = [], 0
    for key, team, subs, best, private in entries:
        has_score = key[0]
        if has_score and not team.is_baseline:
            rank += 1
        rows.append(
            LeaderboardRow(
                rank=rank if has_score and not team.is_baseline else None,
                team=team.name,
                baseline=team.is_baseline,
                entries=len(subs),
                public=best.public_score if best else None,
                private=private,
                last_submission=subs[-1].created_at if subs else None,
            )
        )
    return rows


def safe_cell(value: object) -> str:
    """Neutralise spreadsheet formulas: a text cell starting with = + - @ (or tab/CR) gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    text = str(value)
    return "'" + text if text.startswith(CSV_TRIGGERS) else text


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
