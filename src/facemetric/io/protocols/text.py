"""Helpers shared by the text protocol loaders: reading lines and one-line errors naming file:line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from facemetric.errors import ProtocolError


def malformed(path: Path, line_no: int, problem: str, fix: str = "") -> ProtocolError:
    """``<file>:<line>: <problem>. <fix>``"""
    msg = f"{path}:{line_no}: {problem}"
    return ProtocolError(msg + (f". {fix}" if fix else ""))


def read_text(path: Path) -> str:
    path = Path(path)
    if not path.exists():
        raise ProtocolError(f"{path}: does not exist; check the protocol path")
    if path.is_dir():
        raise ProtocolError(f"{path}: is a folder; give the pair file itself")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"{path}: is not a UTF-8 text file ({exc.reason} at byte {exc.start})") from exc


def numbered_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line_number, tokens)`` for every non-blank line, split on whitespace."""
    for no, line in enumerate(read_text(path).splitlines(), start=1):
        tokens = line.split()
        if tokens:
            yield no, tokens


def parse_int(token: str, path: Path, line_no: int, what: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise malformed(path, line_no, f"{what} must be an integer; got {token!r}") from None
