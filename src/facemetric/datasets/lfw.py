"""Fetch LFW (images and the pair lists) or import a copy already on disk, into one layout.

Layout written under ``dest``::

    dest/images/<Name>/<Name>_<NNNN>.jpg   the images, one folder per person
    dest/pairs.txt                         View 2: 10 folds of 300 + 300 pairs
    dest/pairsDevTrain.txt, pairsDevTest.txt  View 1 (when available)
    dest/lfw.json                          what was installed; written last

The download comes from the figshare mirrors that scikit-learn's ``fetch_lfw_pairs`` uses,
with the same SHA-256 checksums. Those mirrors host the original and the *funneled* images;
the deep-funneled variant is not mirrored there and can only be imported with ``from_dir``.
Set ``FACEMETRIC_LFW_MIRROR`` (or pass ``mirror``) to a base URL that serves the same file
names (``lfw-funneled.tgz``, ``pairs.txt``, ...) to download from elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from facemetric.datasets.download import DownloadError, ProgressFn, RemoteFile, download
from facemetric.io.digest import file_digest
from facemetric.errors import ConfigError, bad_file
from facemetric.io.atomic import write_text_atomic

MIRROR_ENV = "FACEMETRIC_LFW_MIRROR"
FIGSHARE = "https://ndownloader.figshare.com/files/"

ARCHIVES: dict[str, RemoteFile] = {
    "funneled": RemoteFile(
        "lfw-funneled.tgz", FIGSHARE + "5976015",
        "b47c8422c8cded889dc5a13418c4bc2abbda121092b3533a83306f90d900100a",
    ),
    "original": RemoteFile(
        "lfw.tgz", FIGSHARE + "5976018",
        "055f7d9c632d7370e6fb4afc7468d40f970c34a80d4c6f50ffec63f5a8d536c0",
    ),
}
PAIR_FILES: tuple[RemoteFile, ...] = (
    RemoteFile("pairs.txt", FIGSHARE + "5976006",
               "ea42330c62c92989f9d7c03237ed5d591365e89b3e649747777b70e692dc1592"),
    RemoteFile("pairsDevTrain.txt", FIGSHARE + "5976012",
               "1d454dada7dfeca0e7eab6f65dc4e97a6312d44cf142207be28d688be92aabfa"),
    RemoteFile("pairsDevTest.txt", FIGSHARE + "5976009",
               "7cb06600ea8b2814ac26e946201cdb304296262aad67d046a16a7ec85d0ff87c"),
)
VARIANTS = tuple(ARCHIVES)
IMAGE_FOLDERS = ("lfw-deepfunneled", "lfw_funneled", "lfw-funneled", "lfw")
MARKER = "lfw.json"


@dataclass(frozen=True)
class LfwInstall:
    """A checked LFW folder: where it is and what it holds."""

    root: Path
    n_images: int
    n_identities: int
    n_pairs: int
    variant: str

    @property
    def images(self) -> Path:
        return self.root / "images"


def lfw_files(variant: str = "funneled", mirror: str | None = None) -> list[RemoteFile]:
    """The archive and pair files of ``variant``, from figshare or from ``mirror``/<filename>."""
    if variant not in ARCHIVES:
        raise ConfigError(f"unknown LFW variant {variant!r}; choose one of {VARIANTS} "
                          "(deep-funneled images are not mirrored: import a copy with --from DIR)")
    files = [ARCHIVES[variant], *PAIR_FILES]
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    if mirror:
        files = [replace(f, url=mirror.rstrip("/") + "/" + f.filename) for f in files]
    return files


def fetch_lfw(
    dest: str | Path,
    *,
    variant: str = "funneled",
    mirror: str | None = None,
    files: list[RemoteFile] | None = None,
    progress: Callable[[str], ProgressFn | None] | None = None,
    keep_archive: bool = False,
) -> LfwInstall:
    """Download, verify and unpack LFW into ``dest``; a finished install is left as it is.

    ``files`` (archive first, then pair lists) overrides the file table, e.g. for a private
    mirror with its own checksums. ``progress(filename)`` may return a byte-progress callback.
    """
    dest = Path(dest)
    files = files if files is not None else lfw_files(variant, mirror)
    archive, pair_files = files[0], files[1:]
    done = _read_marker(dest)
    if done and done.get("archive_sha256") == archive.sha256 and (dest / "images").is_dir():
        return check_lfw(dest)
    downloads = dest / ".downloads"
    created = [p for p in (*reversed(dest.parents), dest, downloads) if not p.exists()]
    try:
        got = {f.filename: download(f, downloads, progress=progress(f.filename) if progress else None)
               for f in files}
    except DownloadError as exc:
        for folder in reversed(created):  # leave no empty folder behind
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise DownloadError(f"{exc}. Without network access, import a copy on disk with --from DIR, or "
                            "download from another server with --mirror URL") from exc
    _unpack_images(got[archive.filename], dest)
    for f in pair_files:
        shutil.copyfile(got[f.filename], dest / (f.filename + ".tmp"))
        os.replace(dest / (f.filename + ".tmp"), dest / f.filename)
    install = check_lfw(dest, variant=variant)
    _write_marker(install, source=archive.url, archive_sha256=archive.sha256)
    if not keep_archive:
        shutil.rmtree(downloads, ignore_errors=True)
    return install


def import_lfw(src: str | Path, dest: str | Path) -> LfwInstall:
    """Install LFW from a copy on disk: a folder holding ``pairs.txt`` and either ``images/``,
    an unpacked image folder (``lfw-deepfunneled/``, ``lfw_funneled/``, ``lfw/``), the identity
    folders themselves, or a downloaded archive (``lfw-funneled.tgz``, ``lfw.tgz``, checked).
    """
    src, dest = Path(src), Path(dest)
    if not src.is_dir():
        raise bad_file(src, "is not a folder", "give the folder that holds pairs.txt and the LFW images")
    pairs = src / "pairs.txt"
    if not pairs.is_file():
        raise bad_file(src, "holds no pairs.txt", "copy LFW's pairs.txt into it")
    dest.mkdir(parents=True, exist_ok=True)
    same = src.resolve() == dest.resolve()
    archive = next((a for a in ARCHIVES.values() if (src / a.filename).is_file()), None)
    image_root = _find_image_root(src)
    variant = "imported"
    if image_root is None and archive is not None:
        digest = file_digest(src / archive.filename)
        if digest != archive.sha256:
            raise bad_file(src / archive.filename, f"has sha256 {digest}, expected {archive.sha256}",
                           "the archive is corrupt; download it again")
        _unpack_images(src / archive.filename, dest)
        variant = next(k for k, v in ARCHIVES.items() if v is archive)
    elif image_root is None:
        raise bad_file(src, "holds no LFW images (no images/, lfw-deepfunneled/, lfw_funneled/, lfw/, "
                       "identity folders of .jpg files, or lfw archive)", "point --from at the LFW folder")
    elif not (same and image_root == src / "images"):
        _install_folder(image_root, dest)
    if not same:
        for name in ("pairs.txt", "pairsDevTrain.txt", "pairsDevTest.txt"):
            if (src / name).is_file():
                shutil.copyfile(src / name, dest / (name + ".tmp"))
                os.replace(dest / (name + ".tmp"), dest / name)
    install = check_lfw(dest, variant=variant)
    _write_marker(install, source=str(src.resolve()), archive_sha256=None)
    return install


def check_lfw(dest: str | Path, variant: str | None = None) -> LfwInstall:
    """Check that ``dest`` holds images/ and a pairs.txt whose every image exists."""
    dest = Path(dest)
    images, pairs = dest / "images", dest / "pairs.txt"
    if not images.is_dir():
        raise bad_file(dest, "has no images/ folder", "fetch LFW again")
    if not pairs.is_file():
        raise bad_file(dest, "has no pairs.txt", "fetch LFW again")
    needed, n_pairs = pair_images(pairs)
    missing = [p for p in sorted(needed) if not (images / p).is_file()]
    if missing:
        raise bad_file(images, f"lacks {len(missing)} image(s) named in pairs.txt, e.g. {missing[0]}",
                       "the copy is incomplete; fetch or import it again")
    people = [p for p in images.iterdir() if p.is_dir()]
    n_images = sum(1 for person in people for f in person.iterdir() if f.suffix.lower() == ".jpg")
    if variant is None:
        variant = (_read_marker(dest) or {}).get("variant", "unknown")
    return LfwInstall(root=dest, n_images=n_images, n_identities=len(people), n_pairs=n_pairs,
                      variant=variant)


def pair_images(pairs_path: str | Path) -> tuple[set[str], int]:
    """Image paths (``Name/Name_0001.jpg``) used by an LFW pair file, and its number of pairs."""
    pairs_path = Path(pairs_path)
    needed: set[str] = set()
    n_pairs = 0
    with open(pairs_path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            tok = line.split()
            if not tok or (lineno == 1 and len(tok) == 2 and all(t.isdigit() for t in tok)):
                continue
            try:
                if len(tok) == 3:
                    a, b = (tok[0], int(tok[1])), (tok[0], int(tok[2]))
                elif len(tok) == 4:
                    a, b = (tok[0], int(tok[1])), (tok[2], int(tok[3]))
                else:
                    raise ValueError
            except ValueError:
                raise bad_file(pairs_path, f"line {lineno} is not 'name i j' or 'name1 i name2 j': "
                               f"{line.strip()!r}", "use LFW's original pairs.txt") from None
            for name, idx in (a, b):
                needed.add(f"{name}/{name}_{idx:04d}.jpg")
            n_pairs += 1
    if n_pairs == 0:
        raise bad_file(pairs_path, "lists no pairs", "use LFW's original pairs.txt")
    return needed, n_pairs


def _find_image_root(src: Path) -> Path | None:
    for name in ("images", *IMAGE_FOLDERS):
        if (src / name).is_dir():
            return src / name
    if any(p.is_dir() and any(p.glob("*.jpg")) for p in src.iterdir()):
        return src
    return None


def _unpack_images(archive: Path, dest: Path) -> None:
    """Extract ``archive`` into a temporary folder of ``dest``, then rename it to ``dest/images``."""
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest))
    try:
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp / "content", filter="data")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise bad_file(archive, f"cannot be unpacked ({exc})", "delete it and fetch again") from exc
        entries = list((tmp / "content").iterdir())
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp / "content"
        _swap_in(root, dest / "images", tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _install_folder(image_root: Path, dest: Path) -> None:
    """Copy ``image_root`` into a temporary folder of ``dest``, then rename it to ``dest/images``."""
    tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=dest))
    try:
        shutil.copytree(image_root, tmp / "images", ignore=shutil.ignore_patterns("*.txt", "*.tgz"))
        _swap_in(tmp / "images", dest / "images", tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(new: Path, target: Path, scratch: Path) -> None:
    """Rename ``new`` to ``target``; an old ``target`` is moved into ``scratch`` (deleted later)."""
    if target.exists():
        os.rename(target, scratch / ".old-images")
    os.rename(new, target)


def _read_marker(dest: Path) -> dict | None:
    try:
        return json.loads((dest / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _write_marker(install: LfwInstall, *, source: str, archive_sha256: str | None) -> None:
    info = {
        "dataset": "lfw", "variant": install.variant, "source": source, "archive_sha256": archive_sha256,
        "n_images": install.n_images, "n_identities": install.n_identities, "n_pairs": install.n_pairs,
    }
    write_text_atomic(install.root / MARKER, json.dumps(info, indent=2) + "\n")


def lfw_summary(install: LfwInstall) -> str:
    return (f"LFW ({install.variant}) in {install.root}: {install.n_images} images of "
            f"{install.n_identities} people, {install.n_pairs} pairs in pairs.txt")


__all__ = ["ARCHIVES", "PAIR_FILES", "VARIANTS", "MIRROR_ENV", "LfwInstall", "fetch_lfw", "import_lfw",
           "check_lfw", "lfw_files", "pair_images", "lfw_summary"]
