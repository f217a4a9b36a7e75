"""`journalbot run`: the bot process, by long polling or behind a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Iterator
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n
from aiohttp import web

from bot.api.server import ServedApi, start_beside, stop_beside
from bot.dispatcher import create_dispatcher
from bot.health import start_health_server
from bot.i18n import LANGUAGES, make_i18n
from bot.keys import code_secret
from bot.notifications import run_notifications
from bot.settings import Settings
from bot.webhook import WebhookHandler, webhook_app
from handlers.common.start import chat_commands
from services.db import migrate
from services.db.session import Engine, create_engine, create_sessionmaker
from services.health import REGISTRY
from services.tracing import frames
from services.updates import DatabaseHandledUpdates, HandledUpdates, RedisHandledUpdates

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"


class StartupError(Exception):
    """The bot cannot start; the message says why in one line, for the person at the console."""


def create_bot(settings: Settings, token: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        token=token,
        session=session,
        default=DefaultBotProperties(
            parse_mode=ParseMode.HTML,
            link_preview_is_disabled=True,
            # Children's data must not be forwarded or saved out of the chat.
            protect_content=True,
        ),
    )


def bot_commands(i18n: I18n, locale: str) -> list[BotCommand]:
    """The bot's default command menu in `locale`: a family's (handlers.common.start)."""
    with i18n.context(), i18n.use_locale(locale):
        return chat_commands()


async def check_bot(bot: Bot, settings: Settings) -> str:
    """Ask the Bot API who we are; a bad token or an unreachable server is a StartupError."""
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise StartupError("BOT_TOKEN was rejected by the Bot API (Unauthorized)") from None
    except TelegramNetworkError as exc:
        raise StartupError(
            f"cannot reach the Bot API at {settings.telegram_api_url}: {exc.message}"
        ) from None
    return me.username or str(me.id)


async def publish_commands(bot: Bot, i18n: I18n) -> None:
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands(bot_commands(i18n, i18n.default_locale), scope=scope)
    for locale in LANGUAGES:
        await bot.set_my_commands(bot_commands(i18n, locale), scope=scope, language_code=locale)


class ProcessFailed(Exception):
    """A background task could not be kept alive: the process exits non-zero to be restarted."""


@contextlib.contextmanager
def _signals_set(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` while inside."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _handled_updates(
    settings: Settings, engine: Engine, *, bot_id: int
) -> tuple[HandledUpdates, Any]:
    """Where webhook processes share the updates they took on: Redis when set, else the DB.

    Update ids are per bot: keys carry the bot's id, so that two bots sharing one Redis
    (staging and production, say) never take each other's updates for repeats.
    """
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
        return RedisHandledUpdates(redis, prefix=f"journalbot:{bot_id}"), redis
    return DatabaseHandledUpdates(engine), None


async def _serve_webhook(
    dispatcher: Dispatcher,
    bot: Bot,
    settings: Settings,
    *,
    handled: HandledUpdates,
    stop: asyncio.Event,
) -> None:
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    handler = WebhookHandler(dispatcher, bot, secret=secret, handled=handled)
    runner = web.AppRunner(webhook_app(handler, WEBHOOK_PATH), handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
        await site.start()
        await bot.set_webhook(
            settings.webhook_url + WEBHOOK_PATH,
            secret_token=secret,
            allowed_updates=dispatcher.resolve_used_update_types(),
        )
        log.info("webhook server listening on %s:%s", settings.webhook_host, settings.webhook_port)
        await stop.wait()
    finally:
        await runner.cleanup()


async def _poll(dispatcher: Dispatcher, bot: Bot, *, stop: asyncio.Event) -> None:
    await bot.delete_webhook(drop_pending_updates=False)
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            allowed_updates=dispatcher.resolve_used_update_types(),
            close_bot_session=False,
            # run_bot's own signal handlers set `stop`.
            handle_signals=False,
        ),
        name="polling",
    )
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not polling.done():
            with contextlib.suppress(RuntimeError):  # not started after all
                await dispatcher.stop_polling()
        await polling
    finally:
        stopped.cancel()
        await _cancel(polling)


async def _cancel(task: asyncio.Task[None]) -> None:
    """Cancel `task` unless it has ended, and wait until it has."""
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _gave_up(task: asyncio.Task[None]) -> ProcessFailed:
    """Log why the notifications ended early, mark the process unready, say so in one line."""
    exc = None if task.cancelled() else task.exception()
    reason = type(exc).__name__ if exc is not None else "returned before being asked to"
    # The supervisor has logged each failure already; this is the process going down.
    # The kind and the frames, not the error's text, which may quote a name.
    log.error(
        "notifications stopped (%s): stopping the process%s",
        reason,
        frames(exc) if exc is not None else "",
    )
    if REGISTRY.failed is None:
        REGISTRY.failed = "notifications"
    return ProcessFailed(
        f"notifications stopped ({reason}; see the log above): exiting so that the service"
        " manager restarts the process"
    )


async def _run_until_stopped(
    front: Coroutine[Any, Any, None],
    notifications: asyncio.Task[None],
    stop_updates: asyncio.Event,
) -> None:
    """Serve updates until a signal, or until the notifications die (then ProcessFailed).

    The caller stops the notifications after this returns: updates are not taken any more
    by then, so nothing they queue is left half done.
    """
    updates = asyncio.create_task(front, name="updates")
    try:
        with _signals_set(stop_updates):
            await asyncio.wait({updates, notifications}, return_when=asyncio.FIRST_COMPLETED)
        # Nobody has asked the notifications to stop yet: if they ended, they failed.
        failed = notifications.done()
        stop_updates.set()
        await updates
    finally:
        stop_updates.set()
        await _cancel(updates)
    if failed:
        raise _gave_up(notifications)


async def run_bot(settings: Settings, database_url: str) -> None:
    """Run until SIGINT or SIGTERM, then close every connection.

    Raises ProcessFailed when the notifications die, after stopping the updates.
    """
    if settings.bot_token is None:
        raise StartupError(
            "BOT_TOKEN is not set: get one from @BotFather (or try `journalbot demo`)"
        )
    engine = create_engine(database_url)
    try:
        revision = await migrate.current_revision(engine)
    except OSError as exc:
        await engine.dispose()
        raise StartupError(f"cannot connect to the database: {exc}") from None
    if revision is None:
        await engine.dispose()
        raise StartupError("the database is empty: run `journalbot db upgrade` first")
    i18n = make_i18n(settings.default_locale)
    dispatcher = create_dispatcher(
        sessionmaker=create_sessionmaker(engine), i18n=i18n, code_secret=code_secret(settings)
    )
    bot = create_bot(settings, settings.bot_token.get_secret_value())
    # A signal stops the updates first, then the notifications (`stop`).
    stop_updates = asyncio.Event()
    stop = asyncio.Event()
    notifications: asyncio.Task[None] | None = None
    health: web.AppRunner | None = None
    api: ServedApi | None = None
    redis: Any = None
    try:
        username = await check_bot(bot, settings)
        await publish_commands(bot, i18n)
        log.info("started as @%s", username)
        health = await start_health_server(engine, settings)
        api = await start_beside(engine, settings)
        notifications = asyncio.create_task(
            run_notifications(
                engine, database_url, bot=bot, i18n=i18n, settings=settings, stop=stop
            ),
            name="notifications",
        )
        if settings.webhook_url:
            handled, redis = _handled_updates(settings, engine, bot_id=bot.id)
            front = _serve_webhook(dispatcher, bot, settings, handled=handled, stop=stop_updates)
        else:
            front = _poll(dispatcher, bot, stop=stop_updates)
        await _run_until_stopped(front, notifications, stop_updates)
    finally:
        stop.set()
        if notifications is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(notifications, 10)
        if health is not None:
            await health.cleanup()
        await stop_beside(api)
        if redis is not None:
            with contextlib.suppress(Exception):
                await redis.aclose()
        with contextlib.suppress(Exception):
            await bot.session.close()
        await engine.dispose()
        log.info("stopped")


async def run_worker(settings: Settings, database_url: str) -> None:
    """Deliver notifications only (no updates) until SIGINT or SIGTERM.

    Raises ProcessFailed when the notifications cannot be kept alive.
    """
    if settings.bot_token is None:
        raise StartupError("BOT_TOKEN is not set: get one from @BotFather")
    engine = create_engine(database_url)
    bot = create_bot(settings, settings.bot_token.get_secret_value())
    stop = asyncio.Event()
    health: web.AppRunner | None = None
    notifications: asyncio.Task[None] | None = None
    try:
        health = await start_health_server(engine, settings)
        log.info("notification worker started")
        notifications = asyncio.create_task(
            run_notifications(
                engine,
                database_url,
                bot=bot,
                i18n=make_i18n(settings.default_locale),
                settings=settings,
                stop=stop,
            ),
            name="notifications",
        )
        with _signals_set(stop):
            await asyncio.wait({notifications})
        if not stop.is_set():
            raise _gave_up(notifications)
        await notifications
    finally:
        stop.set()
        if notifications is not None and not notifications.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(notifications, 10)
        if health is not None:
            await health.cleanup()
        with contextlib.suppress(Exception):
            await bot.session.close()
        await engine.dispose()
        log.info("notification worker stopped")
