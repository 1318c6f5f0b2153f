"""Pair protocols on disk: one loader per format, format detection, save and load.

Formats: ``lfw`` (View 2 pairs.txt), ``lfw-dev`` (View 1), ``cfp-fp``/``cfp-ff``,
``cplfw`` (also CALFW), ``bin`` (insightface), ``csv`` and ``npz`` (facemetric's own).
Image ids are paths relative to the dataset root, matching ``DescriptorSet.ids``.
"""

from __future__ import annotations

from pathlib import Path

from facemetric.errors import ProtocolError
from facemetric.io.protocols.cfp import load_cfp, setting_of
from facemetric.io.protocols.cplfw import load_cplfw
from facemetric.io.protocols.insightface_bin import BinDataset, load_bin
from facemetric.io.protocols.lfw import load_lfw_dev, load_lfw_pairs
from facemetric.io.protocols.table import load_csv, load_npz, save_csv, save_npz
from facemetric.types import PairProtocol

FORMATS = ("lfw", "lfw-dev", "cfp-fp", "cfp-ff", "cplfw", "bin", "csv", "npz")


def _is_int(token: str) -> bool:
    return token.lstrip("-").isdigit()


def detect_format(path: str | Path) -> str:
    """Guess the protocol format from the path and the first line; raise if unsure."""
    path = Path(path)
    if not path.exists():
        raise ProtocolError(f"{path}: does not exist; check the protocol path")
    if path.is_dir():
        fmt = setting_of(path)
        if fmt:
            return fmt
        if (path / "Pair_list_F.txt").is_file() or (path / "Protocol" / "Pair_list_F.txt").is_file():
            raise ProtocolError(
                f"{path}: a CFP protocol folder; choose the setting with --format cfp-fp or cfp-ff"
            )
        raise ProtocolError(f"{path}: a folder that is not a CFP protocol; give a pair file")
    suffix = path.suffix.lower()
    if suffix in (".bin", ".csv", ".npz"):
        return suffix[1:]
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = ""
        for line in fh:
            if line.strip():
                first = line.strip()
                break
    tokens = first.split()
    if "," in first and len(tokens) == 1:
        return "csv"
    if len(tokens) == 2 and _is_int(tokens[0]) and _is_int(tokens[1]):
        return "lfw"
    if (
        len(tokens) == 1
        and _is_int(tokens[0])
        or len(tokens) == 3
        and _is_int(tokens[1])
        and _is_int(tokens[2])
    ):
        return "lfw-dev"
    if len(tokens) == 4 and _is_int(tokens[1]) and _is_int(tokens[3]):
        return "lfw-dev"
    if len(tokens) == 2 and _is_int(tokens[1]):
        return "cplfw"
    if len(tokens) == 2 and _is_int(tokens[0]):
        raise ProtocolError(
            f"{path}: looks like a CFP Pair_list; give the Protocol folder with --format cfp-fp or cfp-ff"
        )
    raise ProtocolError(
        f"{path}: cannot tell the protocol format from {first[:60]!r}; name it with --format {'|'.join(FORMATS)}"
    )


def load_protocol(
    path: str | Path, format: str | None = None, images_root: str | Path | None = None
) -> PairProtocol:
    """Load a pair protocol; ``format`` is detected when None. ``images_root`` (CFP only) is the
    dataset root that image ids are made relative to."""
    path = Path(path)
    fmt = detect_format(path) if format is None else format
    if fmt not in FORMATS:
        raise ProtocolError(f"unknown protocol format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "lfw":
        return load_lfw_pairs(path)
    if fmt == "lfw-dev":
        return load_lfw_dev(path)
    if fmt in ("cfp-fp", "cfp-ff"):
        return load_cfp(path, fmt, images_root=images_root)
    if fmt == "cplfw":
        return load_cplfw(path)
    if fmt == "bin":
        return load_bin(path).protocol
    if fmt == "csv":
        return load_csv(path)
    return load_npz(path)


def save_protocol(protocol: PairProtocol, path: str | Path) -> Path:
    """Write a protocol as ``.npz`` or ``.csv`` (by extension), atomically."""
    path = Path(path)
    if path.suffix == ".npz":
        return save_npz(protocol, path)
    if path.suffix == ".csv":
        return save_csv(protocol, path)
    raise ProtocolError(f"{path}: unknown extension {path.suffix!r}; save a protocol as .npz or .csv")


__all__ = [
    "FORMATS",
    "BinDataset",
    "detect_format",
    "load_bin",
    "load_cfp",
    "load_cplfw",
    "load_csv",
    "load_lfw_dev",
    "load_lfw_pairs",
    "load_protocol",
    "save_protocol",
]
