"""Serving the ingest API: on its own (`journalbot api`) or beside the bot (`journalbot run`)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.api.app import create_api_app
from bot.api.context import ApiContext
from bot.api.ratelimit import LocalBuckets, RateLimit, RedisBuckets
from bot.settings import Settings
from services.db.session import Engine, create_sessionmaker

log = logging.getLogger(__name__)

# `journalbot api` without API_PORT.
DEFAULT_PORT = 8081


def rate_limit(settings: Settings, redis: Any = None) -> RateLimit:
    """Shared through Redis when there is one, else this process's own buckets."""
    if redis is not None:
        return RedisBuckets(redis, settings.api_rate, settings.api_burst)
    return LocalBuckets(settings.api_rate, settings.api_burst)


async def start_api_server(
    engine: Engine, settings: Settings, *, port: int | None = None, redis: Any = None
) -> web.AppRunner:
    """Listen on API_HOST:API_PORT; the caller cleans the runner up."""
    context = ApiContext(create_sessionmaker(engine), rate_limit(settings, redis))
    runner = web.AppRunner(create_api_app(context), handle_signals=False, access_log=None)
    await runner.setup()
    where = port or settings.api_port or DEFAULT_PORT
    try:
        await web.TCPSite(runner, settings.api_host, where).start()
    except OSError:
        await runner.cleanup()
        raise
    log.info("ingest API listening on %s:%s", settings.api_host, where)
    return runner


def redis_client(settings: Settings) -> Any:
    """A Redis client for the shared rate limit, or None without REDIS_URL."""
    if not settings.redis_url:
        return None
    from redis.asyncio import Redis

    return Redis.from_url(settings.redis_url)


class ServedApi:
    """The API beside another process's work; `close` stops it and its Redis client."""

    def __init__(self, runner: web.AppRunner, redis: Any) -> None:
        self.runner = runner
        self.redis = redis

    async def close(self) -> None:
        await self.runner.cleanup()
        if self.redis is not None:
            await self.redis.aclose()


async def start_beside(engine: Engine, settings: Settings) -> ServedApi | None:
    """`journalbot run` serves the API as well when API_PORT is set (else None)."""
    if settings.api_port is None:
        return None
    redis = redis_client(settings)
    try:
        runner = await start_api_server(engine, settings, redis=redis)
    except OSError:
        if redis is not None:
            await redis.aclose()
        raise
    return ServedApi(runner, redis)


async def stop_beside(api: ServedApi | None) -> None:
    if api is not None:
        await api.close()
