"""Which images to extract: a folder tree, a list file, or the images of a pair protocol.

Every image is named by its path relative to the images root, with forward slashes
(``Name/Name_0001.jpg``). That name becomes the descriptor id, so that a protocol that names
the same relative paths finds its descriptors. The identity label is a folder of that path,
by default the first one (``identity/image.jpg``).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from facemetric.errors import ConfigError, InputError, bad_file
from facemetric.identity import identity_from_id

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


@dataclass(frozen=True)
class ImageItem:
    """One image to process: its id (relative path), its file and its identity label."""

    id: str
    path: Path
    label: str


def label_of(image_id: str, depth: int = 0) -> str:
    """The identity of ``image_id``: its folder at ``depth`` (0 = first), or for a file with no folder
    its name less a trailing number (CPLFW's ``Name_3.jpg``); "" when neither applies."""
    return identity_from_id(image_id, depth)


def _check_root(root: Path) -> Path:
    if not root.exists():
        raise bad_file(root, "does not exist", "give the folder that holds the images")
    if not root.is_dir():
        raise bad_file(root, "is not a folder", "give the folder that holds the images")
    return root


def _check_some_exist(root: Path, ids: list[str], source: str | Path) -> None:
    """Refuse up front when none of the images ``source`` names is under ``root`` (a wrong root);
    single missing files are reported per image by the run."""
    if ids and not any((root / i).is_file() for i in ids):
        raise bad_file(root, f"holds none of the {len(ids)} images that {source} names (e.g. {root / ids[0]})",
                       "give the folder their paths are relative to")


def _items(root: Path, ids: Iterable[str], label_depth: int) -> list[ImageItem]:
    if label_depth < 0:
        raise ConfigError(f"The 'label_depth' parameter must be >= 0; got {label_depth} instead")
    return [ImageItem(id=i, path=root / i, label=label_of(i, label_depth)) for i in ids]


def folder_images(root: str | Path, label_depth: int = 0) -> list[ImageItem]:
    """Every image file under ``root`` (recursively, sorted), e.g. ``identity/image.jpg``."""
    root = _check_root(Path(root))
    ids = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )
    if not ids:
        raise bad_file(root, f"holds no image files ({', '.join(IMAGE_SUFFIXES)})",
                       "check the folder; images go in <root>/<identity>/<image>.jpg")
    return _items(root, ids, label_depth)


def normalize_id(entry: str, where: str) -> str:
    """Turn a relative path into a clean id; raise for absolute paths or paths that leave the root."""
    raw = entry.strip().replace("\\", "/")
    if not raw:
        raise InputError(f"{where}: empty image path")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise InputError(f"{where}: {entry!r} is an absolute path; give paths relative to the images root")
    clean = posixpath.normpath(raw)
    if clean == ".." or clean.startswith("../"):
        raise InputError(f"{where}: {entry!r} points outside the images root; give paths relative to it")
    return clean


def list_file_images(root: str | Path, list_file: str | Path, label_depth: int = 0) -> list[ImageItem]:
    """Images named in ``list_file``, one path relative to ``root`` per line.

    Blank lines and lines starting with ``#`` are skipped; anything after a tab is ignored (paths may hold
    spaces). An absolute path, a path leaving the root or a repeated path is an error
    naming the line. Files that are missing are reported per image, unless none exists (a wrong root).
    """
    root = _check_root(Path(root))
    list_file = Path(list_file)
    if not list_file.is_file():
        raise bad_file(list_file, "no such list file", "give a text file with one image path per line")
    try:
        lines = list_file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise bad_file(list_file, "is not UTF-8 text",
                       "give a text file with one image path per line") from exc
    ids: list[str] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        entry = text.split("\t")[0].strip() if "\t" in text else text
        image_id = normalize_id(entry, f"{list_file} line {lineno}")
        if image_id in seen:
            raise InputError(f"{list_file} line {lineno}: {image_id!r} is listed again (first at line "
                             f"{seen[image_id]}); list each image once")
        seen[image_id] = lineno
        ids.append(image_id)
    if not ids:
        raise bad_file(list_file, "lists no images", "write one image path (relative to the root) per line")
    _check_some_exist(root, ids, list_file)
    return _items(root, ids, label_depth)


def protocol_images(root: str | Path, protocol_file: str | Path, format: str | None = None,
                    label_depth: int = 0) -> list[ImageItem]:
    """The images a pair protocol uses (LFW pairs.txt, CFP, CSV...), as ids relative to ``root``."""
    from facemetric.io import load_protocol

    root = _check_root(Path(root))
    protocol = load_protocol(protocol_file, format=format, images_root=root)
    ids = sorted({normalize_id(str(i), f"{protocol_file}") for i in protocol.images})
    _check_some_exist(root, ids, protocol_file)
    return _items(root, ids, label_depth)
