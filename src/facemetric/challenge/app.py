"""The contest web site and API (FastAPI), and ``serve`` to run it with uvicorn.

Pages: ``/`` leaderboard, ``/submit`` form, ``/me`` a team's own history and final choice,
``/leaderboard.csv``. API: ``POST /api/submissions`` (Bearer token, multipart field ``file``),
``GET /api/submissions``, ``GET /api/submissions/{id}/file``, ``PUT /api/final``,
``GET /api/leaderboard``, and for the organiser (admin token) ``POST /api/teams`` and
``POST /api/close``. Errors answer ``{"detail": "..."}`` with a 4xx status.
"""

from pathlib import Path
from typing import Any

from facemetric.challenge.contest import Contest
from facemetric.challenge.leaderboard import final_submissions, leaderboard, leaderboard_csv
from facemetric.challenge.store import ContestClosedError, LimitError, NotFoundError, Submission, Team
from facemetric.challenge.submission import SubmissionError
from facemetric.challenge.templates import render
from facemetric.errors import InputError, require

FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries, headers and the token field
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
]


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
    return 400


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` before they are read, and bodies of unknown length."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            problem = None
            if length is None:
                if headers.get(b"transfer-encoding"):
                    problem = (411, "send the file with a Content-Length header")
            elif not length.isdigit():
                problem = (400, "the Content-Length header is not a number")
            elif int(length) > self.max_bytes:
                problem = (413, f"the request is {int(length)} bytes but the limit is {self.max_bytes} bytes")
            if problem is not None:
                from starlette.responses import JSONResponse

                await JSONResponse({"detail": problem[1]}, status_code=problem[0])(scope, receive, send)
                return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


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


def create_app(directory: str | Path):
    """The FastAPI application of the contest in ``directory``."""
    fastapi = require("fastapi", "challenge")
    require("python_multipart", "challenge")
    from fastapi import Depends, File, Form, Request, UploadFile
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

    contest = Contest(directory)
    config = contest.config
    store = contest.store
    app = fastapi.FastAPI(title=config.title, docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(InputError)
    async def on_input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=error_status(exc))

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(
            {"detail": f"{where or 'request'}: {first.get('msg', 'invalid request')}"}, status_code=422
        )

    def unauthorized(detail: str) -> fastapi.HTTPException:
        return fastapi.HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})

    def bearer(request: Request) -> str:
        header = request.headers.get("authorization")
        if not header:
            raise unauthorized("missing Authorization header; send 'Authorization: Bearer YOUR_TEAM_TOKEN'")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("the Authorization header must read 'Bearer YOUR_TEAM_TOKEN'")
        return token.strip()

    def team_of(token: str) -> Team:
        team = store.team_for_token(token) if token else None
        if team is None:
            raise unauthorized("invalid team token; use the token the organiser gave your team")
        return team

    def current_team(token: str = Depends(bearer)) -> Team:
        return team_of(token)

    def admin(token: str = Depends(bearer)) -> None:
        if not store.is_admin(token):
            raise unauthorized("invalid admin token")

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

    def read_upload(file: UploadFile | None) -> bytes:
        if file is None:
            raise SubmissionError("no file sent; send the CSV in the multipart field 'file'")
        return file.file.read(config.max_upload_bytes + 1)

    def leaderboard_rows() -> tuple[list[dict], bool]:
        closed = contest.is_closed()
        return [r.to_dict(closed=closed) for r in leaderboard(store, closed=closed)], closed

    # --- pages -------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def leaderboard_page() -> str:
        rows, closed = leaderboard_rows()
        return page(
            "leaderboard.html", rows=rows, metric=config.metric, public_pct=f"{config.public_fraction:.0%}"
        )

    @app.get("/leaderboard.csv")
    def leaderboard_download() -> Response:
        closed = contest.is_closed()
        text = leaderboard_csv(leaderboard(store, closed=closed), closed=closed)
        return PlainTextResponse(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="leaderboard.csv"'},
        )

    def submit_page(**context: Any) -> str:
        return page(
            "submit.html", max_bytes=config.max_upload_bytes, daily_limit=config.daily_limit, **context
        )

    @app.get("/submit", response_class=HTMLResponse)
    def submit_form() -> str:
        return submit_page()

    @app.post("/submit", response_class=HTMLResponse)
    def submit_from_form(token: str = Form(""), file: UploadFile | None = File(None)) -> HTMLResponse:
        try:
            team = team_of(token.strip())
            sub = contest.submit(team, read_upload(file))
        except fastapi.HTTPException as exc:
            return HTMLResponse(submit_page(error=exc.detail), status_code=exc.status_code)
        except InputError as exc:
            return HTMLResponse(submit_page(error=str(exc)), status_code=error_status(exc))
        return HTMLResponse(submit_page(result=sub, team=team.name))

    def me_page(token: str, **context: Any) -> HTMLResponse:
        try:
            team = team_of(token.strip())
        except fastapi.HTTPException as exc:
            return HTMLResponse(page("me.html", error=exc.detail), status_code=exc.status_code)
        subs = store.submissions(team.id)
        finals = {s.id for s in final_submissions(subs)}
        return HTMLResponse(
            page(
                "me.html",
                team=team.name,
                token=token.strip(),
                subs=subs,
                finals=finals,
                max_final=config.max_final,
                **context,
            )
        )

    @app.get("/me", response_class=HTMLResponse)
    def me_form() -> str:
        return page("me.html")

    @app.post("/me", response_class=HTMLResponse)
    def me_history(token: str = Form("")) -> HTMLResponse:
        return me_page(token)

    @app.post("/me/final", response_class=HTMLResponse)
    def me_final(token: str = Form(""), final: list[int] = Form([])) -> HTMLResponse:
        try:
            team = team_of(token.strip())
            store.select_final(team.id, final, max_final=config.max_final)
        except fastapi.HTTPException as exc:
            return HTMLResponse(page("me.html", error=exc.detail), status_code=exc.status_code)
        except InputError as exc:
            return me_page(token, error=str(exc))
        return me_page(token, message="Your final choice was saved.")

    # --- API ---------------------------------------------------------------------
    @app.get("/api/leaderboard")
    def api_leaderboard() -> dict:
        rows, closed = leaderboard_rows()
        return {"rows": rows, "closed": closed, "metric": config.metric}

    @app.post("/api/submissions")
    def api_submit(team: Team = Depends(current_team), file: UploadFile | None = File(None)) -> dict:
        sub = contest.submit(team, read_upload(file))
        return {"id": sub.id, "public_score": sub.public_score}

    @app.get("/api/submissions")
    def api_history(team: Team = Depends(current_team)) -> dict:
        closed = contest.is_closed()
        subs = store.submissions(team.id)
        finals = [s.id for s in final_submissions(subs)]
        return {
            "team": team.name,
            "final": finals,
            "submissions": [_submission_json(s, closed=closed) for s in subs],
        }

    @app.get("/api/submissions/{submission_id}/file")
    def api_file(submission_id: int, team: Team = Depends(current_team)) -> Response:
        data = store.submission_file(team.id, submission_id)
        return Response(
            data,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="submission-{submission_id}.csv"'},
        )

    @app.put("/api/final")
    def api_final(payload: dict, team: Team = Depends(current_team)) -> dict:
        ids = payload.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise InputError('send JSON {"ids": [submission ids]}')
        store.select_final(team.id, ids, max_final=config.max_final)
        return {"final": [s.id for s in final_submissions(store.submissions(team.id))]}

    @app.post("/api/teams", dependencies=[Depends(admin)])
    def api_add_team(payload: dict) -> dict:
        name = payload.get("name")
        if not isinstance(name, str):
            raise InputError('send JSON {"name": "team name"}')
        team, token = store.add_team(name)
        return {"team": team.name, "token": token}

    @app.post("/api/close", dependencies=[Depends(admin)])
    def api_close() -> dict:
        return {"closed_at": store.close()}

    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_upload_bytes + FORM_OVERHEAD_BYTES)
    return app


def serve(
    directory: str | Path, host: str = "127.0.0.1", port: int = 8000, *, access_log: bool = True
) -> None:
    """Run the contest site with uvicorn until interrupted."""
    uvicorn = require("uvicorn", "challenge")
    app = create_app(directory)
    uvicorn.run(app, host=host, port=port, access_log=access_log, log_level="info", server_header=False)
