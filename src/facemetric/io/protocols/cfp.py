"""CFP (Celebrities in Frontal-Profile): ``Protocol/Pair_list_{F,P}.txt`` + ``Split/{FF,FP}/NN/{same,diff}.txt``.

``Pair_list_F.txt`` lines read ``index ../Data/Images/001/frontal/01.jpg``; the paths are
relative to the ``Protocol`` folder and are turned into ids relative to the dataset root
(default: the folder above ``Protocol``; override with ``images_root``). Split lines read
``i,j``: for FF both index the frontal list, for FP ``i`` is frontal and ``j`` profile.
Each numbered split folder (01..10) is one fold. The identity of an image is its folder
``Data/Images/<id>``.
"""

from __future__ import annotations

import os
from pathlib import Path

from facemetric.errors import ProtocolError
from facemetric.io.protocols.text import malformed, numbered_lines, parse_int
from facemetric.types import PairProtocol

SETTINGS = {"cfp-ff": "FF", "cfp-fp": "FP"}


def find_protocol_dir(path: Path) -> Path:
    """The ``Protocol`` folder from itself, its ``Split`` folder, or ``Split/FF|FP``."""
    path = Path(path)
    for candidate in (path, path.parent, path.parent.parent, path / "Protocol"):
        if (candidate / "Pair_list_F.txt").is_file():
            return candidate
    raise ProtocolError(f"{path}: no Pair_list_F.txt found here or above; give CFP's Protocol folder")


def setting_of(path: Path) -> str | None:
    """ "cfp-ff"/"cfp-fp" when ``path`` is a ``Split/FF`` or ``Split/FP`` folder, else None."""
    name = Path(path).name.upper()
    for fmt, setting in SETTINGS.items():
        if name == setting and Path(path).parent.name == "Split":
            return fmt
    return None


def _pair_list(path: Path, protocol_dir: Path, root: Path) -> dict[int, tuple[str, str]]:
    """Index -> (image id relative to ``root``, identity: the folder ``Data/Images/<id>``)."""
    out: dict[int, tuple[str, str]] = {}
    root = Path(os.path.abspath(root))
    for no, tokens in numbered_lines(path):
        if len(tokens) != 2:
            raise malformed(path, no, f"expected 'index path'; got {len(tokens)} fields")
        idx = parse_int(tokens[0], path, no, "image index")
        full = Path(os.path.normpath(os.path.join(os.path.abspath(protocol_dir), tokens[1])))
        try:
            rel = full.relative_to(root)
        except ValueError:
            raise malformed(
                path,
                no,
                f"image {tokens[1]!r} lies outside the dataset root {root}",
                "pass images_root=<dataset root>",
            ) from None
        if idx in out:
            raise malformed(path, no, f"image index {idx} is listed twice")
        out[idx] = (rel.as_posix(), full.parent.parent.name)
    if not out:
        raise ProtocolError(f"{path}: lists no images")
    return out


def _split_file(path: Path, first: dict[int, tuple[str, str]], second: dict[int, tuple[str, str]],
                a: list, b: list) -> None:
    for no, tokens in numbered_lines(path):
        fields = "".join(tokens).split(",")
        if len(fields) != 2:
            raise malformed(path, no, f"expected 'i,j'; got {' '.join(tokens)!r}")
        i = parse_int(fields[0], path, no, "first index")
        j = parse_int(fields[1], path, no, "second index")
        if i not in first or j not in second:
            bad = i if i not in first else j
            raise malformed(
                path, no, f"index {bad} is not in the pair list", "check that Split and Pair_list match"
            )
        a.append(first[i])
        b.append(second[j])


def load_cfp(
    path: str | Path, setting: str = "cfp-fp", images_root: str | Path | None = None
) -> PairProtocol:
    """CFP frontal-frontal ("cfp-ff") or frontal-profile ("cfp-fp"): 10 folds of 350 + 350 pairs."""
    if setting not in SETTINGS:
        raise ProtocolError(f"CFP setting must be one of {sorted(SETTINGS)}; got {setting!r}")
    protocol_dir = find_protocol_dir(Path(path))
    root = Path(images_root) if images_root is not None else protocol_dir.parent
    frontal = _pair_list(protocol_dir / "Pair_list_F.txt", protocol_dir, root)
    second = frontal
    if setting == "cfp-fp":
        profile_list = protocol_dir / "Pair_list_P.txt"
        if not profile_list.is_file():
            raise ProtocolError(f"{profile_list}: missing; cfp-fp needs the profile pair list")
        second = _pair_list(profile_list, protocol_dir, root)
    split_dir = protocol_dir / "Split" / SETTINGS[setting]
    fold_dirs = sorted(p for p in split_dir.iterdir() if p.is_dir()) if split_dir.is_dir() else []
    if not fold_dirs:
        raise ProtocolError(f"{split_dir}: no fold folders (01..10) found; check the CFP Protocol folder")
    a: list[tuple[str, str]] = []
    b: list[tuple[str, str]] = []
    labels: list[int] = []
    folds: list[int] = []
    for k, fold_dir in enumerate(fold_dirs):
        for name, label in (("same.txt", 1), ("diff.txt", 0)):
            f = fold_dir / name
            if not f.is_file():
                raise ProtocolError(f"{f}: missing; every CFP fold folder needs same.txt and diff.txt")
            before = len(a)
            _split_file(f, frontal, second, a, b)
            labels += [label] * (len(a) - before)
            folds += [k] * (len(a) - before)
    return PairProtocol.from_id_pairs(
        [x[0] for x in a], [x[0] for x in b], labels=labels, folds=folds, name=f"{setting}",
        identities=([x[1] for x in a], [x[1] for x in b]),
    )
