"""The ingest API's aiohttp application: routes under /api/v1, auth, limits, problem answers.

`journalbot api` serves it alone; `journalbot run` beside the bot when API_PORT is set.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from aiohttp import web

from bot.api.context import CONTEXT, PRINCIPAL, ApiContext, Handler
from bot.api.ingest import handler
from bot.api.kinds import KINDS
from bot.api.problems import FieldError, Problem, unauthorized
from services.db.errors import DatabaseErrors, database_gone
from services.ingest import tokens

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
OPENAPI_FILE = Path(__file__).with_name("openapi.json")
# A batch of 1 000 records with long texts fits; aiohttp answers 413 beyond.
MAX_BODY_BYTES = 8 << 20
# Longer than any token issued: looked up no further.
MAX_TOKEN_CHARS = 200
PUBLIC_PATHS = frozenset({f"{PREFIX}/openapi.json", "/healthz"})


def _from_http(exc: web.HTTPException) -> Problem:
    """aiohttp's own answers (no route 404, 405 with Allow, 413) as problems too."""
    headers = {
        k: v for k, v in exc.headers.items() if k.lower() not in {"content-type", "content-length"}
    }
    errors = []
    if exc.status == 413:
        errors = [FieldError("body", f"at most {MAX_BODY_BYTES} bytes")]
    return Problem(exc.status, exc.reason, exc.reason, errors, headers)


def _from_database(exc: BaseException) -> Problem:
    if database_gone(exc):
        return Problem(
            503,
            "Service Unavailable",
            "the database is unavailable; try again",
            headers={"Retry-After": "5"},
        )
    # A constraint the records break together (two classes named alike, say): the data's fault.
    return Problem(
        409,
        "Conflict",
        "the database refused the records as they stand",
        [FieldError("body", "records that agree with the rows already there")],
    )


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as application/problem+json; the log gets its kind, never the body."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http(exc).response()
    except DatabaseErrors as exc:
        log.warning(
            "api: %s %s: database error %s", request.method, request.path, type(exc).__name__
        )
        return _from_database(exc).response()
    except Exception as exc:
        log.exception("api: %s %s failed (%s)", request.method, request.path, type(exc).__name__)
        return Problem(500, "Internal Server Error", "the request failed").response()


def bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("a bearer token is required")
    if len(token) > MAX_TOKEN_CHARS:
        raise unauthorized("the token is unknown or revoked")
    return token


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The caller's token, then its rate; the school every handler works in is the token's."""
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    context = request.app[CONTEXT]
    token = bearer(request)
    async with context.sessions() as session, session.begin():
        principal = await tokens.authenticate(session, token, now=context.clock())
    if principal is None:
        raise unauthorized("the token is unknown or revoked")
    wait = await context.limit.take(principal.token_id)
    if wait > 0:
        raise Problem(
            429,
            "Too Many Requests",
            "this token's rate limit is reached",
            [FieldError("Authorization", "fewer requests a second with this token")],
            {"Retry-After": str(max(1, math.ceil(wait)))},
        )
    request[PRINCIPAL] = principal
    return await handler(request)


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def about_token(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    return web.json_response({"school_id": principal.school_id, "name": principal.name})


OPENAPI = web.AppKey("openapi", bytes)


def create_api_app(context: ApiContext) -> web.Application:
    """The application; the document is read once, from the file kept in the repository."""
    app = web.Application(middlewares=[problems, authenticate], client_max_size=MAX_BODY_BYTES)
    app[CONTEXT] = context
    app[OPENAPI] = OPENAPI_FILE.read_bytes()
    app.router.add_get(f"{PREFIX}/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get(f"{PREFIX}/token", about_token)
    for spec in KINDS:
        app.router.add_post(f"{PREFIX}/{spec.path}", handler(spec))
    return app
