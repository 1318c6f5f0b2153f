"""The store and leaderboard without HTTP: limits, finals, close, ranking, integrity."""

from __future__ import annotations

import sqlite3

import pytest

from facemetric.challenge import Contest, leaderboard, leaderboard_csv
from facemetric.challenge.store import ContestClosedError, LimitError, NotFoundError
from facemetric.errors import InputError


def test_submit_limit_finals_close_and_private_ranking(make_contest, helpers):
    directory, _ = make_contest(daily_limit=3, max_final=1)
    contest = Contest(directory)
    store = contest.store
    a, _ = store.add_team("alpha")
    b, _ = store.add_team("beta")
    subs_a = [contest.submit(a, helpers.random_submission(directory, seed)) for seed in (1, 2, 3)]
    with pytest.raises(LimitError, match="used its 3 submissions"):
        contest.submit(a, helpers.random_submission(directory, 4))
    sub_b = contest.submit(b, helpers.random_submission(directory, 5))
    for sub, seed in zip(subs_a, (1, 2, 3)):
        pub, priv = helpers.reference_scores(directory, helpers.random_submission(directory, seed))
        assert sub.public_score == pytest.approx(pub, abs=1e-12)
        assert sub.private_score == pytest.approx(priv, abs=1e-12)
    with pytest.raises(InputError, match="at most 1 final"):
        store.select_final(a.id, [subs_a[0].id, subs_a[1].id], max_final=1)
    with pytest.raises(NotFoundError, match=f"no submission {sub_b.id}"):
        store.select_final(a.id, [sub_b.id], max_final=1)
    worst = min(subs_a, key=lambda s: s.public_score)
    store.select_final(a.id, [worst.id], max_final=1)

    public_rows = {r.team: r for r in leaderboard(store)}
    assert public_rows["alpha"].public == max(s.public_score for s in subs_a)
    assert public_rows["alpha"].private is None and public_rows["alpha"].entries == 3
    assert "private" not in leaderboard_csv(leaderboard(store), closed=False).splitlines()[0]

    store.close()
    assert store.close() == store.closed_at()  # idempotent
    with pytest.raises(ContestClosedError):
        contest.submit(b, helpers.random_submission(directory, 6))
    with pytest.raises(ContestClosedError):
        store.add_team("late")
    with pytest.raises(ContestClosedError):
        store.select_final(b.id, [], max_final=1)
    rows = leaderboard(store)
    final = {r.team: r for r in rows}
    assert final["alpha"].private == worst.private_score  # the chosen final counts, not the best
    assert final["beta"].private == sub_b.private_score
    ranked = [r for r in rows if r.rank is not None]
    assert [r.rank for r in ranked] == [1, 2]
    assert ranked[0].private >= ranked[1].private
    assert leaderboard_csv(rows, closed=True).splitlines()[0].split(",") == [
        "rank",
        "team",
        "baseline",
        "entries",
        "public",
        "private",
        "last_submission",
    ]


def test_team_names_checked_and_unique(make_contest):
    store = Contest(make_contest()[0]).store
    store.add_team("Gamma")
    with pytest.raises(InputError, match="already exists"):
        store.add_team("gamma ")
    with pytest.raises(InputError, match="empty"):
        store.add_team("   ")
    with pytest.raises(InputError, match="at most 64"):
        store.add_team("x" * 65)
    with pytest.raises(InputError, match="control characters"):
        store.add_team("a\nb")


def test_database_is_wal_and_holds_only_token_hashes(make_contest):
    directory, admin = make_contest()
    store = Contest(directory).store
    _, token = store.add_team("delta")
    raw = b"".join(p.read_bytes() for p in directory.glob("challenge.db*"))
    assert token.encode() not in raw and admin.encode() not in raw
    with sqlite3.connect(directory / "challenge.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.team_for_token(token).name == "delta"
    assert store.team_for_token(token + "x") is None
    assert store.is_admin(admin) and not store.is_admin(token)
    assert store.integrity_problems() == []
