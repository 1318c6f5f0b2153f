"""Finding 3: size and auth before the body, bodies cut at the limit, request timeouts, a connection limit.

Raw sockets against the real uvicorn server on loopback: the attacks need framing no HTTP client
sends on purpose (chunked bodies without end, a Content-Length that lies, headers that never end).
"""

from __future__ import annotations

import socket
import time

import pytest

from facemetric.challenge import Contest
from facemetric.challenge.process import ServerProcess, free_port

MB = 1 << 20
FLOOD = [b"x" * 65536] * (200 * MB // 65536)  # 200 MB, the red team's upload
BOUND = 32 * MB  # socket buffers on loopback hold a few MB: far less than this gets through


@pytest.fixture(scope="module")
def guarded(make_contest):
    directory, _ = make_contest(daily_limit=5)
    token = Contest(directory).store.add_team("limits")[1]
    args = ["--header-timeout", "1", "--body-timeout", "2"]
    with ServerProcess(directory, free_port(), serve_args=args) as server:
        yield server, token, directory


def test_unauthenticated_chunked_upload_is_refused_before_its_body(guarded, helpers):
    server, _, _ = guarded
    head = helpers.post_head(
        "/api/submissions",
        {"Transfer-Encoding": "chunked", "Content-Type": "multipart/form-data; boundary=b"},
    )
    got = helpers.raw_exchange(server.port, head, helpers.chunked(FLOOD))
    assert got.status == 401 and "missing Authorization header" in got.json()["detail"]
    assert got.header("connection") == "close" and got.closed
    assert got.body_sent < BOUND, f"the server read {got.body_sent} bytes of a refused body"


def test_a_content_length_that_lies_beside_chunked_is_no_way_around(guarded, helpers):
    server, _, _ = guarded
    head = helpers.post_head(
        "/api/submissions",
        {
            "Content-Length": "100",
            "Transfer-Encoding": "chunked",
            "Content-Type": "multipart/form-data; boundary=b",
            "Authorization": "Bearer fmc_wrong",
        },
    )
    got = helpers.raw_exchange(server.port, head, helpers.chunked(FLOOD))
    assert got.status in (400, 401) and "detail" in got.json()
    assert got.closed and got.body_sent < BOUND


def test_authenticated_oversized_chunked_upload_is_cut_at_the_limit(guarded, helpers):
    server, token, _ = guarded
    head = helpers.post_head(
        "/api/submissions",
        {
            "Transfer-Encoding": "chunked",
            "Content-Type": "multipart/form-data; boundary=b",
            "Authorization": f"Bearer {token}",
        },
    )
    got = helpers.raw_exchange(server.port, head, helpers.chunked(FLOOD))
    assert got.status == 413 and "over the limit of 28192 bytes" in got.json()["detail"]
    assert got.closed and got.body_sent < BOUND


def test_honest_chunked_upload_is_accepted(guarded, helpers):
    server, token, directory = guarded
    body, content_type = helpers.multipart(helpers.random_submission(directory, seed=5))
    head = helpers.post_head(
        "/api/submissions",
        {"Transfer-Encoding": "chunked", "Content-Type": content_type, "Authorization": f"Bearer {token}"},
    )
    got = helpers.raw_exchange(server.port, head, helpers.chunked([body[:5000], body[5000:]]))
    assert got.status == 200 and set(got.json()) == {"id", "public_score"}


def test_a_body_shorter_than_its_content_length_times_out(guarded, helpers):
    server, token, _ = guarded
    head = helpers.post_head(
        "/api/submissions",
        {
            "Content-Length": "10000",
            "Content-Type": "multipart/form-data; boundary=b",
            "Authorization": f"Bearer {token}",
        },
    )
    got = helpers.raw_exchange(server.port, head, [b"--b\r\n"], wait=20)
    assert got.status == 408 and "did not arrive within 2 s" in got.json()["detail"]
    assert got.closed


@pytest.mark.parametrize("sent", [b"", b"POST /api/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\n"])
def test_connections_that_never_finish_their_headers_are_closed(guarded, sent):
    server, _, _ = guarded
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(sent)
        try:
            data = sock.recv(4096)  # the header timeout is 1 s: the close comes long before 20 s
        except (ConnectionResetError, TimeoutError):
            data = None
        assert data == b"", "the server held a connection whose request never came"


def test_connections_beyond_the_limit_get_a_json_503(make_contest):
    directory, _ = make_contest()
    limit = 4
    args = ["--max-connections", str(limit), "--header-timeout", "60"]
    with ServerProcess(directory, free_port(), serve_args=args) as server:
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(limit)]
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as extra:
                extra.sendall(b"GET /api/leaderboard HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                answer = b""
                while chunk := extra.recv(4096):
                    answer += chunk
            assert answer.startswith(b"HTTP/1.1 503 ") and b"retry-after: 5" in answer
            assert b'"detail": "the server is at its limit of 4 connections' in answer
        finally:
            for sock in held:
                sock.close()
        # Once the held connections are gone, the server answers again.
        deadline = time.monotonic() + 10
        import httpx

        while time.monotonic() < deadline:
            r = httpx.get(server.url + "/api/leaderboard")
            if r.status_code == 200:
                break
            time.sleep(0.1)
        assert r.status_code == 200
