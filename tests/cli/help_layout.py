"""What "a help line breaks mid-sentence" means, as a checker over rendered help text.

Help is rendered as text blocks (the description) and panels (``│ ... │``) whose last column holds
the help of each parameter. Two consecutive lines L and L' belong to the same text when L' starts in
the column where the last text of L starts and has no second column (it continues L's paragraph or
cell) and does not start a list item (``•``). Their break is **forced** when the first word of L' would not fit at the end of L (the
renderer had to wrap), and **deliberate** when L ends a sentence or clause (``. : ; ! ?`` or a
closing bracket). Any other break is a mid-sentence break: the source text was hard-wrapped, so the
line ends early at every terminal width.
"""

from __future__ import annotations

import re

ANSI = re.compile(r"\x1b\[[0-9;]*m")
BORDERS = "│┃|"
SENTENCE_END = tuple(".:;!?)]")
ITEM_START = ("•", "- ", "* ")


def _inner(line: str) -> tuple[str, int]:
    """The line without its panel borders (kept as blanks) and the rightmost column text may use."""
    stripped = line.rstrip()
    if stripped and stripped[-1] in BORDERS and stripped.lstrip()[:1] in BORDERS:
        right = len(stripped) - 1  # the closing border
        start = len(line) - len(line.lstrip())
        inner = " " * (start + 1) + stripped[start + 1:right]
        return inner, right - 1  # one blank of padding before the border
    return line.rstrip(), None  # type: ignore[return-value]


def _columns(inner: str) -> list[tuple[int, str]]:
    """(start, text) of each column of a line: runs of text separated by 2+ blanks."""
    return [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", inner)]


def mid_sentence_breaks(text: str, width: int) -> list[str]:
    """The pairs of lines (as ``"L ⏎ L'"``) that break mid-sentence although the next word would fit."""
    lines = [ANSI.sub("", line) for line in text.splitlines()]
    found = []
    for line, nxt in zip(lines, lines[1:]):
        inner, right = _inner(line)
        inner_next, _ = _inner(nxt)
        if right is None:
            right = width - 1  # text outside panels keeps one blank of padding on the right
        cols, cols_next = _columns(inner), _columns(inner_next)
        if not cols or len(cols_next) != 1 or cols_next[0][0] != cols[-1][0]:
            continue  # a blank line or a new row: not a continuation
        if cols_next[0][1].startswith(ITEM_START):
            continue  # a new list item
        last = cols[-1][1]
        if last.endswith(SENTENCE_END) or set(last) <= set("─━═╭╮╰╯┏┓┗┛┃│ "):
            continue
        end = cols[-1][0] + len(last)
        word = cols_next[0][1].split(" ")[0]
        if end + 1 + len(word) <= right:
            found.append(f"{line.strip()} ⏎ {nxt.strip()}")
    return found
