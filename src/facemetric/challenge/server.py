"""``serve``: run the contest site with uvicorn, with limits on connections and on slow clients.

uvicorn alone times out only idle keep-alive connections: a client that opens a connection and
never finishes its request headers is held for ever, and every connection is accepted. The
HTTP protocol class here adds, per connection:

* ``header_timeout``: the request line and headers must arrive within this many seconds of the
  connection (or of the previous response); otherwise the connection is closed;
* ``max_connections``: past this many open connections, a new one is answered a JSON 503 with
  ``Retry-After`` and closed at once;
* malformed HTTP is answered a JSON 400 (uvicorn's own is plain text);
* a *lingering close*: when the server closes a connection whose client is still sending (a
  refused upload), it first sends its answer and a FIN, then reads and drops what still comes for
  at most ``LINGER_SECONDS`` or ``LINGER_BYTES``. Closing at once would make the kernel reset the
  connection, and the client would lose the answer (the 401 or 413) it was sent.

Request bodies are bounded by :class:`facemetric.challenge.guard.RequestGuard` (size, time).
"""

from __future__ import annotations

import json
from pathlib import Path

from facemetric.challenge.limits import ServerLimits
from facemetric.errors import require


LINGER_SECONDS = 1.0
LINGER_BYTES = 256 * 1024


class _LingeringTransport:
    """The connection's transport as uvicorn sees it: ``close`` lingers (see the module docstring)."""

    def __init__(self, transport, protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._closing = False

    def __getattr__(self, name: str):
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self._closing or self._transport.is_closing()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        transport = self._transport
        if transport.is_closing():
            return
        try:
            transport.write_eof()  # FIN after what is still buffered: the answer gets out whole
        except (NotImplementedError, RuntimeError, OSError):
            transport.close()
            return
        self._protocol.start_draining()
        transport.resume_reading()

    def abort_now(self) -> None:
        self._transport.close()


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
        _drained = None  # bytes dropped since the lingering close began, or None
        _linger_timer = None

        def connection_made(self, transport) -> None:  # type: ignore[override]
            transport = _LingeringTransport(transport, self)
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                self.connections.discard(self)  # a refused connection does not hold a place
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
            if self._drained is not None:
                self._drained += len(data)
                if self._drained > LINGER_BYTES:
                    self.transport.abort_now()
                return
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._cancel_header_timer()

        def eof_received(self) -> None:
            if self._drained is not None:
                self.transport.abort_now()

        def start_draining(self) -> None:
            self._cancel_header_timer()
            self._drained = 0
            self._linger_timer = self.loop.call_later(LINGER_SECONDS, self.transport.abort_now)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm_header_timer()

        def connection_lost(self, exc) -> None:
            self._cancel_header_timer()
            if self._linger_timer is not None:
                self._linger_timer.cancel()
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
