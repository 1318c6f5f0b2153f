"""The contest web site and API (FastAPI), wrapped in :class:`~facemetric.challenge.guard.RequestGuard`.

Pages: ``/`` leaderboard, ``/submit`` form, ``/me`` a team's own history and final choice,
``/leaderboard.csv``. API: ``POST /api/submissions`` (Bearer token, multipart field ``file``,
optional ``Idempotency-Key``), ``GET /api/submissions``, ``GET /api/submissions/{id}/file``,
``PUT /api/final``, ``GET /api/leaderboard``, and for the organiser (admin token)
``POST /api/teams`` and ``POST /api/close``. Errors answer ``{"detail": "..."}``; the status
codes are listed in docs/challenge.md ("Status codes").

A submission is refused as cheaply as possible: the size (from the headers), the token, the
team's request rate, the close and the daily limit are all checked before the body is read;
only then is the file parsed and scored, on a small pool of worker threads (``work_threads``)
so that answers go out as soon as each commit is done. Leaderboards are served from a cache
that any commit invalidates.
"""

import json
import math
from functools import partial
from pathlib import Path
from typing import Any

from facemetric.challenge.contest import Contest
from facemetric.challenge.guard import RequestGuard, logger
from facemetric.challenge.leaderboard import LeaderboardCache, final_submissions, leaderboard_csv
from facemetric.challenge.limits import ServerLimits
from facemetric.challenge.ratelimit import RateLimiter
from facemetric.challenge.store import (
    ContestClosedError,
    IdempotencyConflictError,
    LimitError,
    NotFoundError,
    StoreUnavailableError,
    Submission,
    Team,
    check_submission_id,
)
from facemetric.challenge.submission import SubmissionError
from facemetric.challenge.templates import render
from facemetric.errors import ConfigError, InputError, require

FORM_OVERHEAD_BYTES = 8 * 1024  # multipart boundaries, part headers and the token field
MAX_IDEMPOTENCY_KEY = 255


def error_status(exc: InputError) -> int:
    """HTTP status of a library error met while serving a request."""
    if isinstance(exc, SubmissionError):
        return exc.status
    if isinstance(exc, LimitError):
        return 429
    if isinstance(exc, ContestClosedError):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, IdempotencyConflictError):
        return 409
    return 400


class Refusal(Exception):
    """An HTTP refusal decided by the app: status, one-line detail, extra headers."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


def unauthorized(detail: str) -> Refusal:
    return Refusal(401, detail, {"WWW-Authenticate": "Bearer"})


UNAVAILABLE = "the contest database cannot be written or read right now; try again in a minute"


def _submission_json(sub: Submission, *, closed: bool) -> dict:
    data = {
        "id": sub.id,
        "created_at": sub.created_at,
        "n_bytes": sub.n_bytes,
        "sha256": sub.sha256,
        "public_score": sub.public_score,
        "selected": sub.selected,
    }
    if closed:
        data["private_score"] = sub.private_score
    return data


def parse_id(text: str) -> int:
    """A submission id from a path or form field; anything else is an unknown submission."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        raise NotFoundError(f"your team has no submission {text[:20]!r}")
    return check_submission_id(int(text))


def create_app(directory: str | Path, *, limits: ServerLimits = ServerLimits(), check_writable: bool = False):
    """The ASGI application of the contest in ``directory`` (FastAPI inside a RequestGuard).

    With ``check_writable``, refuse (one ConfigError line) a contest whose database cannot be
    written, rather than serve errors on every page.
    """
    fastapi = require("fastapi", "challenge")
    require("python_multipart", "challenge")
    import anyio
    from fastapi import Depends, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException

    try:
        contest = Contest(directory)
        if check_writable:
            contest.store.check_writable()
    except StoreUnavailableError as exc:
        if not check_writable:
            raise
        raise ConfigError(
            f"{Path(directory)}: cannot write the contest database ({exc.cause}); serve needs a "
            "writable contest folder on a disk with free space"
        ) from None
    config = contest.config
    store = contest.store
    boards = LeaderboardCache(store)
    team_limiter = RateLimiter(limits.team_rate, limits.team_burst)
    work_limiter = anyio.CapacityLimiter(limits.work_threads)
    app = fastapi.FastAPI(title=config.title, docs_url=None, redoc_url=None, openapi_url=None)

    # --- errors ------------------------------------------------------------------
    @app.exception_handler(Refusal)
    async def on_refusal(request: Request, exc: Refusal) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(InputError)
    async def on_input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=error_status(exc))

    @app.exception_handler(StoreUnavailableError)
    async def on_store_error(request: Request, exc: StoreUnavailableError) -> JSONResponse:
        logger.warning("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": UNAVAILABLE}, status_code=503, headers={"Retry-After": "60"})

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(
            {"detail": f"{where or 'request'}: {first.get('msg', 'invalid request')}"}, status_code=400
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    # --- who is asking -----------------------------------------------------------
    def bearer(request: Request) -> str:
        header = request.headers.get("authorization")
        if not header:
            raise unauthorized("missing Authorization header; send 'Authorization: Bearer YOUR_TEAM_TOKEN'")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("the Authorization header must read 'Bearer YOUR_TEAM_TOKEN'")
        return token.strip()

    def team_of(token: str) -> Team:
        """The token's team, within its request rate, or a refusal."""
        team = store.team_for_token(token) if token else None
        if team is None:
            raise unauthorized("invalid team token; use the token the organiser gave your team")
        wait = team_limiter.wait_time(team.id)
        if wait > 0:
            raise Refusal(
                429,
                f"too many requests from your team (at most {limits.team_rate:g} per second, "
                f"{limits.team_burst} at once); retry in {math.ceil(wait)} s",
                {"Retry-After": str(math.ceil(wait))},
            )
        return team

    def current_team(request: Request) -> Team:
        return team_of(bearer(request))

    def admin(request: Request) -> None:
        if not store.is_admin(bearer(request)):
            raise unauthorized("invalid admin token")

    def idempotency_key(request: Request) -> str | None:
        key = request.headers.get("idempotency-key")
        if key is None:
            return None
        if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY or not all(32 <= ord(c) < 127 for c in key):
            raise Refusal(
                400,
                f"the Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters",
            )
        return key

    # --- reading bodies ----------------------------------------------------------
    async def form_of(request: Request):
        return await request.form(max_files=2, max_fields=20, max_part_size=config.max_upload_bytes + 1)

    async def upload_in(form) -> bytes:
        file = form.get("file")
        if file is None:
            raise SubmissionError("no file sent; send the CSV in the multipart field 'file'")
        if isinstance(file, str):
            raise SubmissionError(
                "the multipart field 'file' is a text field; send the CSV as a file upload "
                "(curl -F file=@submission.csv)"
            )
        return await file.read(config.max_upload_bytes + 1)

    async def json_of(request: Request, shape: str) -> dict:
        try:
            payload = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            payload = None
        if not isinstance(payload, dict):
            raise InputError(f"send JSON {shape}")
        return payload

    async def submit(team: Team, data: bytes, key: str | None = None) -> Submission:
        """Parse, score and record on the worker pool (the event loop keeps answering)."""
        work = partial(contest.submit, team, data, idempotency_key=key)
        return await anyio.to_thread.run_sync(work, limiter=work_limiter)

    # --- pages -------------------------------------------------------------------
    def page(name: str, **context: Any) -> str:
        closed_at = store.closed_at()
        base = {
            "title": config.title,
            "closed": closed_at is not None,
            "closed_at": closed_at,
            "error": None,
            "result": None,
            "team": None,
            "message": None,
        }
        return render(name, **{**base, **context})

    def board_html(rows, closed) -> bytes:
        return page(
            "leaderboard.html",
            rows=[r.to_dict(closed=closed) for r in rows],
            metric=config.metric,
            public_pct=f"{config.public_fraction:.0%}",
        ).encode()

    def board_json(rows, closed) -> bytes:
        data = {"rows": [r.to_dict(closed=closed) for r in rows], "closed": closed, "metric": config.metric}
        return json.dumps(data).encode()

    def board_csv(rows, closed) -> bytes:
        return leaderboard_csv(rows, closed=closed).encode()

    @app.get("/")
    async def leaderboard_page() -> Response:
        return Response(
            boards.get("html", board_html),
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    @app.get("/leaderboard.csv")
    async def leaderboard_download() -> Response:
        return Response(
            boards.get("csv", board_csv),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="leaderboard.csv"',
                "Cache-Control": "no-cache",
            },
        )

    def submit_page(**context: Any) -> str:
        return page(
            "submit.html", max_bytes=config.max_upload_bytes, daily_limit=config.daily_limit, **context
        )

    def refusal_of(exc: Exception) -> tuple[int, str, dict]:
        """Status, one-line detail and headers of a refusal met on a page."""
        if isinstance(exc, Refusal):
            return exc.status, exc.detail, exc.headers
        if isinstance(exc, StoreUnavailableError):
            logger.warning("%s", exc)
            return 503, UNAVAILABLE, {"Retry-After": "60"}
        if isinstance(exc, StarletteHTTPException):
            return exc.status_code, str(exc.detail), dict(exc.headers or {})
        return error_status(exc), str(exc), {}  # InputError

    def page_refusal(request: Request, exc: Exception, render_page) -> Response:
        """The page with its error for a browser; ``{"detail": ...}`` for any other client."""
        status, detail, headers = refusal_of(exc)
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(render_page(error=detail), status_code=status, headers=headers)
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)

    REFUSALS = (Refusal, InputError, StoreUnavailableError, StarletteHTTPException)

    @app.get("/submit", response_class=HTMLResponse)
    def submit_form() -> str:
        return submit_page()

    @app.post("/submit", response_class=HTMLResponse)
    async def submit_from_form(request: Request) -> Response:
        try:
            form = await form_of(request)
            team = team_of(str(form.get("token", "")).strip())
            contest.check_can_submit(team)
            sub = await submit(team, await upload_in(form))
        except REFUSALS as exc:
            return page_refusal(request, exc, submit_page)
        return HTMLResponse(submit_page(result=sub, team=team.name))

    def me_page(team: Team, token: str, **context: Any) -> str:
        subs = store.submissions(team.id)
        finals = {s.id for s in final_submissions(subs)}
        return page(
            "me.html",
            team=team.name,
            token=token,
            subs=subs,
            finals=finals,
            max_final=config.max_final,
            **context,
        )

    def me_login(**context: Any) -> str:
        return page("me.html", **context)

    @app.get("/me", response_class=HTMLResponse)
    def me_form() -> str:
        return me_login()

    @app.post("/me", response_class=HTMLResponse)
    async def me_history(request: Request) -> Response:
        try:
            form = await form_of(request)
            token = str(form.get("token", "")).strip()
            team = team_of(token)
            return HTMLResponse(await run_in_threadpool(me_page, team, token))
        except REFUSALS as exc:
            return page_refusal(request, exc, me_login)

    @app.post("/me/final", response_class=HTMLResponse)
    async def me_final(request: Request) -> Response:
        try:
            form = await form_of(request)
            token = str(form.get("token", "")).strip()
            team = team_of(token)
        except REFUSALS as exc:
            return page_refusal(request, exc, me_login)
        try:
            ids = [parse_id(str(v)) for v in form.getlist("final")]
            await run_in_threadpool(partial(store.select_final, team.id, ids, max_final=config.max_final))
        except REFUSALS as exc:
            return page_refusal(request, exc, partial(me_page, team, token))
        return HTMLResponse(
            await run_in_threadpool(partial(me_page, team, token, message="Your final choice was saved."))
        )

    # --- API ---------------------------------------------------------------------
    @app.get("/api/leaderboard")
    async def api_leaderboard() -> Response:
        return Response(
            boards.get("json", board_json),
            media_type="application/json",
            headers={"Cache-Control": "no-cache"},
        )

    @app.post("/api/submissions")
    async def api_submit(request: Request) -> JSONResponse:
        team = current_team(request)
        key = idempotency_key(request)
        if key is None or store.find_idempotent(team.id, key) is None:
            contest.check_can_submit(team)  # a replay is answered even at the limit or after the close
        sub = await submit(team, await upload_in(await form_of(request)), key)
        headers = {"Idempotent-Replayed": "true"} if sub.replayed else {}
        return JSONResponse({"id": sub.id, "public_score": sub.public_score}, headers=headers)

    @app.get("/api/submissions")
    def api_history(team: Team = Depends(current_team)) -> dict:
        closed = contest.is_closed()
        subs = store.submissions(team.id)
        return {
            "team": team.name,
            "final": [s.id for s in final_submissions(subs)],
            "submissions": [_submission_json(s, closed=closed) for s in subs],
        }

    @app.get("/api/submissions/{submission_id}/file")
    def api_file(submission_id: str, team: Team = Depends(current_team)) -> Response:
        number = parse_id(submission_id)
        data = store.submission_file(team.id, number)
        return Response(
            data,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="submission-{number}.csv"'},
        )

    @app.put("/api/final")
    async def api_final(request: Request) -> dict:
        team = current_team(request)
        ids = (await json_of(request, '{"ids": [submission ids]}')).get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise InputError('send JSON {"ids": [submission ids]}')
        await run_in_threadpool(partial(store.select_final, team.id, ids, max_final=config.max_final))
        subs = await run_in_threadpool(store.submissions, team.id)
        return {"final": [s.id for s in final_submissions(subs)]}

    @app.post("/api/teams")
    async def api_add_team(request: Request) -> dict:
        admin(request)
        name = (await json_of(request, '{"name": "team name"}')).get("name")
        if not isinstance(name, str):
            raise InputError('send JSON {"name": "team name"}')
        team, token = await run_in_threadpool(store.add_team, name)
        return {"team": team.name, "token": token}

    @app.post("/api/close", dependencies=[Depends(admin)])
    def api_close() -> dict:
        return {"closed_at": store.close()}

    return RequestGuard(
        app, max_body_bytes=config.max_upload_bytes + FORM_OVERHEAD_BYTES, body_timeout=limits.body_timeout
    )
