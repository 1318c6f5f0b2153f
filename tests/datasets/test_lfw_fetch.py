"""`facemetric datasets fetch lfw` against a local HTTP server serving a fixture archive."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from facemetric.cli.main import main
from facemetric.datasets import lfw
from facemetric.datasets.download import RemoteFile, download
from facemetric.errors import InputError

PAIRS = "1\t2\nAlice_A\t1\t2\nAlice_A\t1\tBob_B\t1\n"
PEOPLE = {"Alice_A": 2, "Bob_B": 1, "Carol_C": 1}


def _jpeg(seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def _archive(top: str = "lfw_funneled") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        seed = 0
        for name, n in PEOPLE.items():
            for i in range(1, n + 1):
                data = _jpeg(seed)
                seed += 1
                info = tarfile.TarInfo(f"{top}/{name}/{name}_{i:04d}.jpg")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


FILES = {
    "lfw-funneled.tgz": _archive(),
    "pairs.txt": PAIRS.encode(),
    "pairsDevTrain.txt": b"Alice_A\t1\t2\n",
    "pairsDevTest.txt": b"Alice_A\t1\tBob_B\t1\n",
}


class _Handler(BaseHTTPRequestHandler):
    """Serves FILES with Range support; names in ``truncate`` get cut short on their first request."""

    files: dict[str, bytes] = {}
    truncate: set[str] = set()
    honour_range = True
    log: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        name = self.path.lstrip("/")
        self.log.append((name, self.headers.get("Range")))
        if name not in self.files:
            self.send_error(404)
            return
        data = self.files[name]
        start = 0
        rng = self.headers.get("Range")
        if rng and self.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if name in self.truncate:
            self.truncate.discard(name)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    handler = type("Handler", (_Handler,), {"files": dict(FILES), "truncate": set(), "log": [],
                                             "honour_range": True})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def fixture_checksums(monkeypatch):
    """Point the file table at the fixture's checksums (the URLs come from the mirror)."""
    arch = lfw.ARCHIVES["funneled"]
    monkeypatch.setitem(lfw.ARCHIVES, "funneled", RemoteFile(arch.filename, arch.url,
                                                              _sha(FILES[arch.filename])))
    monkeypatch.setattr(lfw, "PAIR_FILES", tuple(RemoteFile(f.filename, f.url, _sha(FILES[f.filename]))
                                                 for f in lfw.PAIR_FILES))


def _check_layout(dest: Path) -> None:
    assert (dest / "pairs.txt").read_text() == PAIRS
    for name, n in PEOPLE.items():
        for i in range(1, n + 1):
            assert (dest / "images" / name / f"{name}_{i:04d}.jpg").is_file()
    leftovers = [p.name for p in dest.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_fetch_downloads_verifies_and_unpacks(server, fixture_checksums, tmp_path):
    handler, url = server
    install = lfw.fetch_lfw(tmp_path / "lfw", mirror=url)
    _check_layout(tmp_path / "lfw")
    assert (install.n_images, install.n_identities, install.n_pairs) == (4, 3, 2)
    marker = json.loads((tmp_path / "lfw" / "lfw.json").read_text())
    assert marker["archive_sha256"] == _sha(FILES["lfw-funneled.tgz"]) and marker["n_images"] == 4
    n_requests = len(handler.log)
    assert n_requests == 4
    lfw.fetch_lfw(tmp_path / "lfw", mirror=url)  # already installed: no new request
    assert len(handler.log) == n_requests


def test_interrupted_download_resumes_with_range(server, fixture_checksums, tmp_path):
    handler, url = server
    handler.truncate.add("lfw-funneled.tgz")
    lfw.fetch_lfw(tmp_path / "lfw", mirror=url)
    _check_layout(tmp_path / "lfw")
    tgz = [r for name, r in handler.log if name == "lfw-funneled.tgz"]
    half = len(FILES["lfw-funneled.tgz"]) // 2
    assert tgz == [None, f"bytes={half}-"]


def test_partial_file_from_a_killed_run_is_resumed(server, tmp_path):
    handler, url = server
    data = FILES["lfw-funneled.tgz"]
    (tmp_path / "lfw-funneled.tgz.part").write_bytes(data[:1000])
    remote = RemoteFile("lfw-funneled.tgz", url + "/lfw-funneled.tgz", _sha(data))
    path = download(remote, tmp_path, delay=0)
    assert path.read_bytes() == data
    assert handler.log == [("lfw-funneled.tgz", "bytes=1000-")]


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    handler, url = server
    handler.honour_range = False
    data = FILES["pairs.txt"]
    (tmp_path / "pairs.txt.part").write_bytes(b"garbage")
    path = download(RemoteFile("pairs.txt", url + "/pairs.txt", _sha(data)), tmp_path, delay=0)
    assert path.read_bytes() == data


def test_bad_checksum_is_a_clear_error_and_deletes_the_download(server, tmp_path, monkeypatch, capsys):
    _, url = server
    monkeypatch.setenv(lfw.MIRROR_ENV, url)  # official checksums, fixture bytes: mismatch
    code = main(["datasets", "fetch", "lfw", "--dest", str(tmp_path / "lfw"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "checksum mismatch for lfw-funneled.tgz" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "lfw" / "images").exists()
    assert not list((tmp_path / "lfw" / ".downloads").glob("lfw-funneled.tgz*"))


def test_cli_fetch_with_mirror_env(server, fixture_checksums, tmp_path, monkeypatch, capsys):
    _, url = server
    monkeypatch.setenv(lfw.MIRROR_ENV, url)
    code = main(["datasets", "fetch", "lfw", "--dest", str(tmp_path / "lfw"), "--no-progress"])
    assert code == 0
    assert "4 images of 3 people" in capsys.readouterr().out
    _check_layout(tmp_path / "lfw")


def test_missing_file_on_mirror_is_a_clear_error(server, tmp_path):
    handler, url = server
    del handler.files["pairs.txt"]
    with pytest.raises(InputError, match="HTTP 404"):
        download(RemoteFile("pairs.txt", url + "/pairs.txt", "0" * 64), tmp_path, delay=0)


def _copy_tree(tmp_path: Path, folder: str) -> Path:
    src = tmp_path / "src"
    with tarfile.open(fileobj=io.BytesIO(_archive(folder)), mode="r:gz") as tar:
        tar.extractall(src, filter="data")
    (src / "pairs.txt").write_text(PAIRS)
    return src


@pytest.mark.parametrize("folder", ["images", "lfw-deepfunneled"])
def test_import_from_a_copy_on_disk(tmp_path, folder, capsys):
    src = _copy_tree(tmp_path, folder)
    code = main(["datasets", "fetch", "lfw", "--from", str(src), "--dest", str(tmp_path / "lfw")])
    assert code == 0, capsys.readouterr().err
    _check_layout(tmp_path / "lfw")
    assert json.loads((tmp_path / "lfw" / "lfw.json").read_text())["n_identities"] == 3


def test_import_from_an_archive_checks_its_checksum(tmp_path, fixture_checksums):
    src = tmp_path / "src"
    src.mkdir()
    (src / "lfw-funneled.tgz").write_bytes(FILES["lfw-funneled.tgz"])
    (src / "pairs.txt").write_text(PAIRS)
    lfw.import_lfw(src, tmp_path / "lfw")
    _check_layout(tmp_path / "lfw")
    (src / "lfw-funneled.tgz").write_bytes(FILES["lfw-funneled.tgz"][:-10])
    with pytest.raises(InputError, match="has sha256 .* expected"):
        lfw.import_lfw(src, tmp_path / "lfw2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["datasets", "fetch", "cfp"], "unknown dataset 'cfp'"),
        (["datasets", "fetch", "lfw", "--variant", "deepfunneled"], "unknown LFW variant"),
        (["datasets", "fetch", "lfw", "--from", "/nonexistent/lfw"], "is not a folder"),
    ],
)
def test_bad_arguments_give_one_line_errors(args, message, capsys, tmp_path):
    assert main([*args, "--dest", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_import_without_pairs_or_with_missing_images_fails(tmp_path):
    src = _copy_tree(tmp_path, "images")
    (src / "images" / "Bob_B" / "Bob_B_0001.jpg").unlink()
    with pytest.raises(InputError, match=r"lacks 1 image\(s\) named in pairs.txt, e.g. Bob_B/Bob_B_0001.jpg"):
        lfw.import_lfw(src, tmp_path / "lfw")
    (src / "pairs.txt").unlink()
    with pytest.raises(InputError, match="holds no pairs.txt"):
        lfw.import_lfw(src, tmp_path / "lfw")


def test_bad_pairs_line_names_the_line(tmp_path):
    (tmp_path / "pairs.txt").write_text("1 1\nAlice 1\n")
    with pytest.raises(InputError, match="line 2 is not"):
        lfw.pair_images(tmp_path / "pairs.txt")


def test_import_of_the_real_lfw_in_place(lfw_dir):
    install = lfw.check_lfw(lfw_dir)
    assert install.n_images == 13233 and install.n_identities == 5749 and install.n_pairs == 6000


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_fetch_says_what_to_do_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("facemetric.datasets.download.time.sleep", lambda _s: None)
    dest = tmp_path / "data" / "lfw"
    code = main(["datasets", "fetch", "lfw", "--dest", str(dest), "--mirror", f"http://127.0.0.1:{_closed_port()}",
                 "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err and err.startswith("error: ")
    assert "--from DIR" in err and "--mirror URL" in err and "nothing was received" in err
    assert ".part" not in err and "again to resume" not in err
    assert not (tmp_path / "data").exists()  # no empty folders left behind


def test_failed_partial_download_says_it_is_kept(server, tmp_path, monkeypatch):
    handler, url = server
    monkeypatch.setattr("facemetric.datasets.download.time.sleep", lambda _s: None)
    data = FILES["lfw-funneled.tgz"]
    handler.honour_range = False  # every try starts over and is cut at half
    remote = RemoteFile("lfw-funneled.tgz", url + "/lfw-funneled.tgz", _sha(data))
    monkeypatch.setattr(handler, "truncate", type("Always", (set,), {"discard": lambda self, x: None})(
        {"lfw-funneled.tgz"}))
    with pytest.raises(InputError, match=r"the \d+ bytes received are kept in .*lfw-funneled.tgz.part; run the "
                                         r"same command again to resume"):
        download(remote, tmp_path, retries=1, delay=0)
    assert (tmp_path / "lfw-funneled.tgz.part").stat().st_size > 0
