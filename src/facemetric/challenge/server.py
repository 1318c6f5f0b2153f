"""``serve``: run the contest site with uvicorn, with limits on connections and on slow clients.

uvicorn alone times out only idle keep-alive connections: a client that opens a connection and
never finishes its request headers is held for ever, and every connection is accepted. The
HTTP protocol class here adds, per connection:

* ``header_timeout``: the request line and headers must arrive within this many seconds of the
  connection (or of the previous response); otherwise the connection is closed;
* ``max_connections``: past this many open connections, a new one is answered a JSON 503 with
  ``Retry-After`` and closed at once;
* malformed HTTP is answered a JSON 400 (uvicorn's own is plain text).

Request bodies are bounded by :class:`facemetric.challenge.guard.RequestGuard` (size, time).
"""

from __future__ import annotations

import json
from pathlib import Path

from facemetric.challenge.limits import ServerLimits
from facemetric.errors import require


def _raw_json_response(status: int, reason: str, detail: str, extra: str = "") -> bytes:
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n{extra}\r\n"
    )
    return head.encode() + body


def protocol_class(limits: ServerLimits) -> type:
    """uvicorn's h11 protocol with the header timeout and the connection limit of ``limits``."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        _header_timer = None

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                transport.write(
                    _raw_json_response(
                        503,
                        "Service Unavailable",
                        f"the server is at its limit of {limits.max_connections} connections; "
                        "retry in a few seconds",
                        "retry-after: 5\r\n",
                    )
                )
                transport.close()
                return
            self._arm_header_timer()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._cancel_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm_header_timer()

        def connection_lost(self, exc) -> None:
            self._cancel_header_timer()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            self.transport.write(
                _raw_json_response(400, "Bad Request", f"malformed HTTP request ({msg.rstrip('.')})")
            )
            self.transport.close()

        def _arm_header_timer(self) -> None:
            self._cancel_header_timer()
            self._header_timer = self.loop.call_later(limits.header_timeout, self._on_header_timeout)

        def _cancel_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _on_header_timeout(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol


def serve(
    directory: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    access_log: bool = True,
    limits: ServerLimits = ServerLimits(),
) -> None:
    """Check that the contest folder can be written, then run the contest site until interrupted."""
    from facemetric.challenge.app import create_app

    uvicorn = require("uvicorn", "challenge")
    app = create_app(directory, limits=limits, check_writable=True)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_class(limits),
        ws="none",
        lifespan="off",
        access_log=access_log,
        log_level="info",
        server_header=False,
        timeout_keep_alive=5,
    )
    uvicorn.Server(config).run()
