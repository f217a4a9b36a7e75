"""The health server: /healthz (alive), /readyz (able to do its work), /metrics (Prometheus).

Served by `journalbot run` (polling and webhook) and `journalbot notify worker` on
HEALTH_HOST:HEALTH_PORT. Answers carry counts, ages and task names only, never personal data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.middlewares import Handler
from bot.settings import Settings
from services import metrics, probes
from services.db.session import Engine
from services.health import REGISTRY, Registry

log = logging.getLogger(__name__)

# A database that does not answer a short query within this is "unreachable" for /readyz.
DATABASE_TIMEOUT_SECONDS = 2.0


class UpdateMetricsMiddleware(BaseMiddleware):
    """Counts updates and times their handling by kind (message, callback_query, ...)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        kind = update_kind(event)
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            metrics.UPDATES.labels(kind).inc()
            metrics.UPDATE_SECONDS.labels(kind).observe(time.perf_counter() - started)


def update_kind(event: TelegramObject) -> str:
    if not isinstance(event, Update):
        return "unknown"
    try:
        return event.event_type
    except Exception:  # aiogram's UpdateTypeLookupError: a kind newer than this aiogram
        return "unknown"


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    # check name -> "ok" or a short reason
    checks: dict[str, str]


async def _queue_state(engine: Engine, now: datetime) -> probes.QueueState:
    async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
        return await probes.queue_state(engine, now=now)


def _tasks_check(registry: Registry) -> str:
    if registry.failed is not None:
        return f"gave up: {registry.failed}"
    dead = registry.dead()
    return f"not running: {', '.join(dead)}" if dead else "ok"


async def readiness(
    engine: Engine,
    *,
    max_due_age_seconds: float,
    now: datetime | None = None,
    registry: Registry = REGISTRY,
) -> Readiness:
    """Ready when the database answers, every background task is alive and the queue moves."""
    checks = {"database": "ok", "tasks": _tasks_check(registry), "queue": "ok"}
    try:
        state = await _queue_state(engine, now or datetime.now(UTC))
    except Exception as exc:
        checks["database"] = f"unreachable ({type(exc).__name__})"
        checks["queue"] = "unknown"
    else:
        if state.oldest_due_seconds > max_due_age_seconds:
            checks["queue"] = (
                f"oldest due message waited {state.oldest_due_seconds:.0f} s"
                f" (limit {max_due_age_seconds:.0f} s)"
            )
    return Readiness(all(value == "ok" for value in checks.values()), checks)


async def refresh_gauges(engine: Engine, *, now: datetime | None = None) -> None:
    """Queue depth, due count, oldest due age and outbox lag, read now from the database."""
    try:
        state = await _queue_state(engine, now or datetime.now(UTC))
    except Exception as exc:
        log.debug("metrics: database unreachable (%s)", type(exc).__name__)
        metrics.DATABASE_UP.set(0)
        for gauge in (
            metrics.QUEUE_DEPTH,
            metrics.QUEUE_DUE,
            metrics.QUEUE_OLDEST_DUE_SECONDS,
            metrics.OUTBOX_LAG_SECONDS,
        ):
            gauge.set(float("nan"))
        return
    metrics.DATABASE_UP.set(1)
    metrics.QUEUE_DEPTH.set(state.pending)
    metrics.QUEUE_DUE.set(state.due)
    metrics.QUEUE_OLDEST_DUE_SECONDS.set(state.oldest_due_seconds)
    metrics.OUTBOX_LAG_SECONDS.set(state.outbox_lag_seconds)


def health_app(engine: Engine, *, max_due_age_seconds: float) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(request: web.Request) -> web.Response:
        found = await readiness(engine, max_due_age_seconds=max_due_age_seconds)
        return web.json_response(
            {"ready": found.ready, "checks": found.checks}, status=200 if found.ready else 503
        )

    async def metrics_page(request: web.Request) -> web.Response:
        await refresh_gauges(engine)
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    return app


async def start_health_server(engine: Engine, settings: Settings) -> web.AppRunner | None:
    """Listen on HEALTH_HOST:HEALTH_PORT (port 0: no server); the caller cleans the runner up.

    A port already taken (a bot and a worker on one host, both on the default) is a warning,
    not a reason to stop delivering: the process runs on without the health server.
    """
    if settings.health_port == 0:
        return None
    runner = web.AppRunner(
        health_app(engine, max_due_age_seconds=settings.ready_max_due_age_seconds),
        handle_signals=False,
        access_log=None,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.health_host, settings.health_port).start()
    except OSError as exc:
        log.warning(
            "health server not started: cannot listen on %s:%s (%s); set HEALTH_PORT",
            settings.health_host,
            settings.health_port,
            exc.strerror or type(exc).__name__,
        )
        await runner.cleanup()
        return None
    log.info("health server listening on %s:%s", settings.health_host, settings.health_port)
    return runner
