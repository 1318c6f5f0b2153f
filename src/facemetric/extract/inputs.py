"""Which images to extract: a folder tree, a list file, or the images of a pair protocol.

Every image is named by its path relative to the images root, with forward slashes
(``Name/Name_0001.jpg``). That name becomes the descriptor id, so that a protocol that names
the same relative paths finds its descriptors. The identity label comes from the layout of the
ids (:func:`facemetric.identity.identities_from_ids`: CFP's ``Data/Images/<id>/frontal/01.jpg``
-> ``<id>``, LFW's ``Name/Name_0001.jpg`` -> ``Name``, otherwise the first folder level that is
not the same for every image), or from the folder at ``label_depth`` when one is given.
:func:`label_warnings` says when the labels look wrong.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from facemetric.errors import ConfigError, InputError, bad_file
from facemetric.identity import disagreeing, identities_from_ids, identity_from_id
from facemetric.types import PairProtocol

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


@dataclass(frozen=True)
class ImageItem:
    """One image to process: its id (relative path), its file and its identity label."""

    id: str
    path: Path
    label: str


def label_of(image_id: str, depth: int | None = None) -> str:
    """The identity of one ``image_id``: its folder at ``depth`` (0 = first), or with ``depth=None`` the
    identity of its known layout (else its first folder); for a file with no folder its name less a
    trailing number (CPLFW's ``Name_3.jpg``); "" when nothing applies."""
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


def _items(root: Path, ids: Iterable[str], label_depth: int | None) -> list[ImageItem]:
    if label_depth is not None and label_depth < 0:
        raise ConfigError(f"The 'label_depth' parameter must be >= 0; got {label_depth} instead")
    ids = list(ids)
    labels, _ = identities_from_ids(ids, label_depth)
    return [ImageItem(id=i, path=root / i, label=str(label)) for i, label in zip(ids, labels.tolist())]


def label_warnings(items: list[ImageItem], protocol: PairProtocol | None = None,
                   label_depth: int | None = None) -> list[str]:
    """Messages for labels that look wrong: every image of one identity, images with no identity, or
    labels that disagree with the identities ``protocol`` states (LFW names, CFP folders...)."""
    out: list[str] = []
    labels = [it.label for it in items]
    rule = f"folder depth {label_depth}" if label_depth is not None else identities_from_ids([it.id for it in items])[1]
    hint = "set the identity folder with --label-depth N (0 = first folder)"
    names = set(labels) - {""}
    if len(items) > 1 and len(names) == 1 and "" not in labels:
        out.append(f"all {len(items)} images get the one identity {labels[0]!r} ({rule}); identity-disjoint "
                   f"folds and learned metrics need the real identities: {hint}")
    unknown = [it.id for it in items if not it.label]
    if unknown:
        out.append(f"{len(unknown)} image(s) get no identity ({rule}), e.g. {unknown[0]!r}; {hint}")
    if protocol is not None and protocol.identities is not None:
        by_id = {it.id: it.label for it in items}
        images = [str(i) for i in protocol.images.tolist()]
        keep = [k for k, i in enumerate(images) if i in by_id and protocol.identities[k] != ""]
        stated = protocol.identities[keep].astype(str)
        given = [by_id[images[k]] for k in keep]
        bad = disagreeing(stated, given)
        if bad.any():
            k = int(bad.argmax())
            out.append(f"the labels of {int(bad.sum())} of {len(keep)} protocol images disagree with the identities "
                       f"{protocol.name} states (e.g. {images[keep[k]]!r} is labelled {given[k]!r}, the protocol "
                       f"says {str(stated[k])!r}); {hint}")
    return out


def folder_images(root: str | Path, label_depth: int | None = None) -> list[ImageItem]:
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


def list_file_images(root: str | Path, list_file: str | Path, label_depth: int | None = None) -> list[ImageItem]:
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
                    label_depth: int | None = None) -> list[ImageItem]:
    """The images a pair protocol uses (LFW pairs.txt, CFP, CSV...), as ids relative to ``root``."""
    return select_images(root, protocol=protocol_file, protocol_format=format, label_depth=label_depth)[0]


def select_images(root: str | Path, *, list_file: str | Path | None = None, protocol: str | Path | None = None,
                  protocol_format: str | None = None,
                  label_depth: int | None = None) -> tuple[list[ImageItem], list[str]]:
    """``(items, warnings)``: a ``list_file``'s images, a ``protocol``'s images, or every image under ``root``;
    the warnings are :func:`label_warnings` (checked against the protocol's identities when it states them)."""
    if list_file is not None and protocol is not None:
        raise ConfigError("give either --list or --protocol, not both")
    pairs = None
    if list_file is not None:
        items = list_file_images(root, list_file, label_depth)
    elif protocol is not None:
        from facemetric.io import load_protocol

        root = _check_root(Path(root))
        pairs = load_protocol(protocol, format=protocol_format, images_root=root)
        ids = sorted({normalize_id(str(i), f"{protocol}") for i in pairs.images})
        _check_some_exist(root, ids, protocol)
        items = _items(root, ids, label_depth)
    else:
        items = folder_images(root, label_depth)
    return items, label_warnings(items, pairs, label_depth)
