"""Reading a submitted CSV (``pair_id,score``) into one score per pair, or one clear error."""

from __future__ import annotations

import csv
import io
import re

import numpy as np

from facemetric.errors import InputError

HEADER = ("pair_id", "score")
# A score is a plain ASCII decimal: optional sign, digits with at most one '.', optional exponent.
# Python's float() also takes '1_000', full-width or Arabic-Indic digits and Unicode spaces; these
# are refused, so that every file means the same number to every reader.
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NON_FINITE = r"[+-]?(?:[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
NUMBER = re.compile(_NUMBER)
NON_FINITE = re.compile(_NON_FINITE)
# Every score of a file at once, one per line: one scan of the joined fields instead of a call per
# line (non-finite ones pass here and are refused after the conversion).
ALL_SCORES = re.compile(f"(?:{_NUMBER}|{_NON_FINITE})(?:\n(?:{_NUMBER}|{_NON_FINITE}))*")
BLANKS = " \t"  # the only characters stripped around a field


class SubmissionError(InputError):
    """A submission file cannot be scored. ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def parse_submission(data: bytes, pair_index: dict[str, int], *, max_bytes: int,
                     n_rows: int | None = None) -> np.ndarray:
    """Scores in the order of ``pair_index`` (pair id -> row), from the bytes of a CSV file.

    The result has ``n_rows`` rows (default: one per pair id), NaN in the rows no pair id maps to.

    Checks, each failing with one message: size, UTF-8 encoding, header ``pair_id,score``,
    two fields per line, known pair ids, no id twice, numbers that are finite, no id missing.
    """
    if len(data) > max_bytes:
        raise SubmissionError(
            f"the file is {len(data)} bytes but the limit is {max_bytes} bytes; "
            "send only pair_id,score lines",
            status=413,
        )
    if not data.strip():
        raise SubmissionError(
            "the file is empty; send a CSV with the header pair_id,score and one line per pair"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            f"the file is not UTF-8 text (invalid byte at position {exc.start}); save it as a UTF-8 CSV"
        ) from exc
    if "\x00" in text:
        raise SubmissionError("the file contains NUL characters; send a plain-text CSV")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise SubmissionError(
            f"the header line cannot be read ({exc}); start the file with pair_id,score"
        ) from exc
    if tuple(h.strip(BLANKS) for h in header) != HEADER:
        raise SubmissionError(
            f"the first line must be the header 'pair_id,score'; got {_short(','.join(header))!r}"
        )
    seen_on: dict[str, int] = {}
    rows: list[int] = []
    raws: list[str] = []
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip(BLANKS)):
                continue
            if len(row) != 2:
                raise SubmissionError(f"line {line}: expected 2 fields 'pair_id,score' but got {len(row)}")
            pair_id = row[0].strip(BLANKS)
            where = pair_index.get(pair_id)
            if where is None:
                raise SubmissionError(
                    f"line {line}: unknown pair id {_short(pair_id)!r}; use the ids of test_pairs.csv"
                )
            if pair_id in seen_on:
                raise SubmissionError(
                    f"line {line}: pair id {_short(pair_id)!r} appears twice "
                    f"(first on line {seen_on[pair_id]}); "
                    "give each pair exactly once"
                )
            seen_on[pair_id] = line
            rows.append(where)
            raws.append(row[1].strip(BLANKS))
    except csv.Error as exc:
        raise SubmissionError(f"line {reader.line_num}: malformed CSV ({exc})") from None
    if len(seen_on) != len(pair_index):
        missing = [p for p in pair_index if p not in seen_on]
        raise SubmissionError(
            f"{len(missing)} pair id(s) are missing, e.g. {_short(missing[0])!r}; "
            f"give one score for each of the {len(pair_index)} pairs of test_pairs.csv"
        )
    values = _numbers(raws, list(seen_on.values()))
    scores = np.full(len(pair_index) if n_rows is None else n_rows, np.nan)
    scores[rows] = values
    return scores


def _numbers(raws: list[str], lines: list[int]) -> np.ndarray:
    """The scores as floats; the first field that is no number, or not finite, raises naming its line.

    All fields are checked by one pass of ``ALL_SCORES`` over the joined text (a file of thousands
    of lines costs one regular-expression scan, not one call per line).
    """
    if ALL_SCORES.fullmatch("\n".join(raws)) is None:
        for raw, line in zip(raws, lines):
            if not (NUMBER.fullmatch(raw) or NON_FINITE.fullmatch(raw)):
                raise SubmissionError(
                    f"line {line}: score {_short(raw)!r} is not a number; write plain ASCII decimals such as "
                    "0.25, -3 or 1.5e-3 (no '_', no other digits or spaces)"
                )
    values = np.array([float(raw) for raw in raws], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise SubmissionError(
            f"line {lines[bad[0]]}: score {_short(raws[bad[0]])!r} is not finite; "
            "give a finite number for every pair"
        )
    return values


def format_submission(pair_ids: np.ndarray, scores: np.ndarray) -> bytes:
    """The CSV bytes of a submission (used for baselines, the demo and tests)."""
    lines = ["pair_id,score"]
    lines += [f"{p},{float(s)!r}" for p, s in zip(np.asarray(pair_ids).astype(str), scores)]
    return ("\n".join(lines) + "\n").encode("utf-8")
