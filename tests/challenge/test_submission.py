"""Submission parsing: every bad file gets its own one-line message."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.challenge.submission import SubmissionError, format_submission, parse_submission

INDEX = {"p0": 0, "p1": 1, "p2": 2}


def parse(text: str | bytes, max_bytes: int = 10_000) -> np.ndarray:
    data = text.encode() if isinstance(text, str) else text
    return parse_submission(data, INDEX, max_bytes=max_bytes)


def test_valid_file_any_order_bom_crlf_blank_lines():
    scores = parse("\ufeffpair_id,score\r\np2,3\r\np0, 1.5\r\n\r\np1,-2e-3\r\n")
    assert scores.tolist() == [1.5, -0.002, 3.0]


def test_round_trip_is_lossless():
    ids = np.array(["p0", "p1", "p2"])
    values = np.array([0.1, -1 / 3, 1e-300])
    assert parse(format_submission(ids, values)).tolist() == values.tolist()


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "the file is empty"),
        ("score,pair_id\np0,1\np1,1\np2,1\n", "first line must be the header 'pair_id,score'"),
        ("pair_id,score,extra\np0,1\n", "first line must be the header"),
        ("pair_id,score\np0,1,2\np1,1\np2,1\n", "line 2: expected 2 fields"),
        ("pair_id,score\np0,1\np9,1\np2,1\n", "line 3: unknown pair id 'p9'"),
        ("pair_id,score\np0,1\np0,2\np2,1\n", "line 3: pair id 'p0' appears twice (first on line 2)"),
        ("pair_id,score\np0,abc\np1,1\np2,1\n", "line 2: score 'abc' is not a number"),
        ("pair_id,score\np0,nan\np1,1\np2,1\n", "line 2: score 'nan' is not finite"),
        ("pair_id,score\np0,1\np1,-inf\np2,1\n", "line 3: score '-inf' is not finite"),
        ("pair_id,score\np0,1\np1,1e999\np2,1\n", "line 3: score '1e999' is not finite"),
        ("pair_id,score\np0,1\np2,1\n", "1 pair id(s) are missing, e.g. 'p1'"),
        ("pair_id,score\np0,1\np1,1\np2,1\x00\n", "NUL characters"),
    ],
)
def test_each_error_has_one_clear_line(text, fragment):
    with pytest.raises(SubmissionError) as info:
        parse(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert info.value.status == 400


def test_not_utf8():
    with pytest.raises(SubmissionError, match=r"not UTF-8 text \(invalid byte at position 15\)"):
        parse(b"pair_id,score\np\xff0,1\n")


def test_size_limit_is_413():
    with pytest.raises(SubmissionError, match="the file is 29 bytes but the limit is 28 bytes") as info:
        parse("pair_id,score\np0,1\np1,1\np2,1\n", max_bytes=28)
    assert info.value.status == 413


def test_long_ids_are_shortened_in_messages():
    with pytest.raises(SubmissionError) as info:
        parse("pair_id,score\n" + "x" * 5000 + ",1\n")
    assert len(str(info.value)) < 200
