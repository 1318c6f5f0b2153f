"""Download one file over HTTP(S) with checksum verification and resumption of partial downloads.

The bytes go to ``<dest>/<filename>.part``. A later call that finds the ``.part`` file asks the
server for the rest with an HTTP ``Range`` header and appends; a server that ignores the range
(status 200) makes it start over. Only a file whose SHA-256 matches is renamed to its final name.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from facemetric.errors import InputError
from facemetric.io.digest import file_digest

CHUNK = 1 << 16
ProgressFn = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


@dataclass(frozen=True)
class RemoteFile:
    """A file to download: its local ``filename``, its ``url`` and its expected ``sha256`` (hex)."""

    filename: str
    url: str
    sha256: str


class DownloadError(InputError):
    """A file could not be downloaded (network down, server error, bad mirror)."""


class _ShortRead(Exception):
    """The connection closed before the announced length arrived."""


def _fetch_once(url: str, part: Path, timeout: float, progress: ProgressFn | None) -> None:
    """Append the missing bytes of ``url`` to ``part``; raise on a network error or a short read."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "facemetric"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: the part file is complete (or too long)
            return
        raise
    with response:
        if have and response.status != 206:
            have = 0  # the server ignored the range: start over
        length = response.headers.get("Content-Length")
        expected = int(length) if length is not None else None
        total = None if expected is None else have + expected
        received = 0
        with open(part, "ab" if have else "wb") as fh:
            while True:
                try:
                    block = response.read(CHUNK)
                except (OSError, urllib.error.URLError, ValueError) as exc:
                    raise _ShortRead(str(exc)) from exc
                except Exception as exc:  # http.client.IncompleteRead and friends
                    raise _ShortRead(str(exc)) from exc
                if not block:
                    break
                fh.write(block)
                received += len(block)
                if progress is not None:
                    progress(have + received, total)
            fh.flush()
            os.fsync(fh.fileno())
        if expected is not None and received < expected:
            raise _ShortRead(f"got {received} of {expected} bytes")


def _drop_if_empty(part: Path) -> bool:
    """Delete an empty partial file; True when nothing (or nothing useful) is left."""
    if part.exists() and part.stat().st_size == 0:
        part.unlink()
    return not part.exists()


def download(
    remote: RemoteFile,
    dest_dir: str | Path,
    *,
    retries: int = 3,
    timeout: float = 60.0,
    delay: float = 1.0,
    progress: ProgressFn | None = None,
) -> Path:
    """Download ``remote`` into ``dest_dir`` and return the verified file's path.

    A file already there with the right checksum is reused. An interrupted transfer resumes
    from where it stopped, within this call (up to ``retries`` more tries) or in a later one.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / remote.filename
    if final.exists() and file_digest(final) == remote.sha256:
        return final
    part = dest_dir / (remote.filename + ".part")
    last_error: Exception | None = None
    for attempt in range(retries + 1):
        try:
            _fetch_once(remote.url, part, timeout, progress)
            last_error = None
            break
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500:
                _drop_if_empty(part)
                raise DownloadError(f"{remote.url}: the server answered HTTP {exc.code} ({exc.reason}); "
                                    "check the mirror URL") from exc
            last_error = exc
            if attempt < retries:
                time.sleep(delay)
        except (_ShortRead, urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            last_error = exc
            if attempt < retries:
                time.sleep(delay)
    if last_error is not None:
        if _drop_if_empty(part):
            resume = "nothing was received"
        else:
            resume = f"the {part.stat().st_size} bytes received are kept in {part}; run the same command again to resume"
        raise DownloadError(f"{remote.url}: download failed after {retries + 1} tries ({last_error}); {resume}")
    digest = file_digest(part)
    if digest != remote.sha256:
        part.unlink()
        raise InputError(
            f"{remote.url}: checksum mismatch for {remote.filename} (sha256 {digest}, expected "
            f"{remote.sha256}); the corrupt download was deleted, run the command again or use another mirror"
        )
    os.replace(part, final)
    return final
