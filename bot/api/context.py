"""What every request of the API reaches: the database, the rate limit, the clock, the caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from bot.api.ratelimit import RateLimit
from services.db.session import SessionFactory
from services.ingest.tokens import Principal

# An aiohttp handler, as middlewares and the route table see it.
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ApiContext:
    sessions: SessionFactory
    limit: RateLimit
    clock: Callable[[], datetime] = utc_now


CONTEXT = web.AppKey("api_context", ApiContext)
PRINCIPAL = web.RequestKey("api_principal", Principal)
