"""An ASGI middleware that bounds every request body as it arrives, whatever the headers say.

:class:`RequestGuard` wraps the whole application:

* a ``Content-Length`` over the limit is refused (413) before a byte of the body is read;
* bytes are counted as they arrive, so a chunked body or a ``Content-Length`` that lies is cut
  at the limit (413), and the connection is closed rather than drained;
* the body must arrive within ``body_timeout`` seconds of the request (408), so slow or unfinished
  uploads cannot hold the server;
* any answer sent before the body was read whole (a 401 on the headers, for instance) carries
  ``Connection: close``: the server stops reading at once instead of discarding the rest;
* every response gets the security headers and ``Cache-Control: no-store`` unless the app set one;
* an unexpected failure answers a JSON 500 (the traceback goes to the server log).

Its answers are JSON ``{"detail": "..."}``, as every other error of the contest API.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
]
NO_STORE = (b"cache-control", b"no-store")
CLOSE = (b"connection", b"close")
logger = logging.getLogger("facemetric.challenge")


def json_error(
    status: int, detail: str, *, close: bool = False, extra: list | None = None
) -> tuple[dict, dict]:
    """The two ASGI messages of a JSON error response."""
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *SECURITY_HEADERS,
        NO_STORE,
        *(extra or []),
    ]
    if close:
        headers.append(CLOSE)
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body, "more_body": False},
    )


class _Cut(Exception):
    """Raised into the application when the guard has answered in its place."""


class RequestGuard:
    def __init__(self, app: Any, *, max_body_bytes: int, body_timeout: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        lengths = [v for k, v in headers if k == b"content-length"]
        chunked = any(k == b"transfer-encoding" for k, _ in headers)
        if lengths and not chunked:
            if len(set(lengths)) > 1 or not lengths[0].isdigit():
                await self._answer(send, 400, "the Content-Length header is not one number")
                return
            if int(lengths[0]) > self.max_body_bytes:
                await self._answer(
                    send,
                    413,
                    f"the request is {int(lengths[0])} bytes but the limit is {self.max_body_bytes} bytes",
                )
                return
        state = {
            "done": not chunked and (not lengths or lengths[0] == b"0"),
            "received": 0,
            "started": False,
            "answered": False,
        }
        deadline = asyncio.get_running_loop().time() + self.body_timeout

        async def guarded_receive() -> dict:
            if state["answered"]:
                return {"type": "http.disconnect"}
            if state["done"]:
                return await receive()
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(remaining, 0.0))
            except TimeoutError:
                await self._answer(
                    send, 408, f"the request body did not arrive within {self.body_timeout:g} s", state
                )
                raise _Cut from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_body_bytes:
                    await self._answer(
                        send, 413, f"the request is over the limit of {self.max_body_bytes} bytes", state
                    )
                    raise _Cut
                if not message.get("more_body", False):
                    state["done"] = True
            return message

        async def guarded_send(message: dict) -> None:
            if state["answered"]:
                return
            if message["type"] == "http.response.start":
                extra = list(SECURITY_HEADERS)
                names = {k.lower() for k, _ in message.get("headers", [])}
                if b"cache-control" not in names:
                    extra.append(NO_STORE)
                if not state["done"]:
                    extra.append(CLOSE)
                message = {**message, "headers": list(message.get("headers", [])) + extra}
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception as exc:
            if state["answered"] or isinstance(exc, _Cut):
                return
            if not state["started"]:
                logger.exception("unexpected error while answering %s %s", scope["method"], scope["path"])
                await self._answer(
                    send, 500, "internal error; the organiser will find it in the server log", state
                )
                return
            raise

    async def _answer(self, send: Any, status: int, detail: str, state: dict | None = None) -> None:
        if state is not None:
            if state["started"]:
                return
            state["answered"] = True
        start, body = json_error(status, detail, close=True)
        await send(start)
        await send(body)
