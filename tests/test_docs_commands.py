"""Every `facemetric ...` command in the README and docs/*.md parses against the real CLI: no
renamed option, no missing argument, no verb that no longer exists (sqlite-utils' test_docs idea)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer._click.exceptions import UsageError

from .cli.commands import ROOT

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def commands_in(path: Path) -> list[tuple[int, str]]:
    """(line, command) of each `facemetric` command in the fenced code blocks of ``path``; backslash
    continuations joined, comments dropped; synopsis lines (``[--x ...]``, ``a|b``) left out."""
    found, block, pending, start = [], False, "", 0
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            block = not block
            continue
        if not block:
            continue
        text = line.strip()
        if pending:
            text, pending = pending + " " + text, ""
        elif not text.startswith("facemetric "):
            continue
        else:
            start = no
        if text.endswith("\\"):
            pending = text[:-1].strip()
            continue
        text = re.sub(r"\s+#.*$", "", text)
        if "[--" in text or re.search(r"\w\|\w", text) or "..." in text:
            continue
        found.append((start, text))
    return found


CASES = [(f"{p.name}:{no}", cmd) for p in DOCS for no, cmd in commands_in(p)]


def test_the_docs_hold_commands():
    assert len(CASES) >= 30


def parse(command: str) -> None:
    """Parse ``command`` down to its leaf command, as click would before running it; raise UsageError."""
    args = shlex.split(command)[1:]
    ctx = ROOT.make_context("facemetric", list(args))
    cmd, rest = ROOT, [*ctx._protected_args, *ctx.args]
    while hasattr(cmd, "commands"):
        name, cmd, rest = cmd.resolve_command(ctx, rest)
        ctx = cmd.make_context(name, rest, parent=ctx)
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]


@pytest.mark.parametrize("where, command", CASES, ids=[c[0] for c in CASES])
def test_documented_command_parses(where, command):
    try:
        parse(command)
    except UsageError as exc:
        pytest.fail(f"{where}: `{command}` does not parse: {exc.format_message()}")


@pytest.mark.parametrize("stale", ["facemetric fit x.npz --method lda --list --out m",
                                   "facemetric evaluate a.npz p.txt", "facemetric challenge nosuch x"])
def test_a_stale_command_is_caught(stale):
    with pytest.raises(UsageError):
        parse(stale)
