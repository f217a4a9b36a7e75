"""`journalbot run`: the bot process, by long polling or behind a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.dispatcher import create_dispatcher
from bot.i18n import LANGUAGES, make_i18n
from bot.keys import code_secret
from bot.notifier import run_notifications
from bot.settings import Settings
from services.db import migrate
from services.db.session import create_engine, create_sessionmaker

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
    with i18n.use_locale(locale):
        return [
            BotCommand(command="start", description=i18n.gettext("Begin or link an account")),
            BotCommand(command="marks", description=i18n.gettext("Marks of the period")),
            BotCommand(command="homework", description=i18n.gettext("Homework: /homework 25.11")),
            BotCommand(
                command="timetable", description=i18n.gettext("Timetable: /timetable 25.11")
            ),
            BotCommand(command="help", description=i18n.gettext("What the bot can do")),
            BotCommand(command="language", description=i18n.gettext("Choose the language")),
            BotCommand(command="logout", description=i18n.gettext("Unlink this account")),
        ]


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


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _serve_webhook(dispatcher: Dispatcher, bot: Bot, settings: Settings) -> None:
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    app = web.Application()
    # The handler refuses requests whose X-Telegram-Bot-Api-Secret-Token differs.
    SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret).register(
        app, path=WEBHOOK_PATH
    )
    setup_application(app, dispatcher, bot=bot)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    await bot.set_webhook(
        settings.webhook_url + WEBHOOK_PATH,
        secret_token=secret,
        allowed_updates=dispatcher.resolve_used_update_types(),
    )
    log.info("webhook server listening on %s:%s", settings.webhook_host, settings.webhook_port)
    try:
        await _wait_for_signal()
    finally:
        await runner.cleanup()


async def run_bot(settings: Settings, database_url: str) -> None:
    """Run until SIGINT or SIGTERM, then close every connection."""
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
    stop = asyncio.Event()
    notifications: asyncio.Task[None] | None = None
    try:
        username = await check_bot(bot, settings)
        await publish_commands(bot, i18n)
        log.info("started as @%s", username)
        notifications = asyncio.create_task(
            run_notifications(
                engine, database_url, bot=bot, i18n=i18n, settings=settings, stop=stop
            )
        )
        if settings.webhook_url:
            await _serve_webhook(dispatcher, bot, settings)
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            # start_polling stops on SIGINT and SIGTERM by itself.
            await dispatcher.start_polling(
                bot,
                allowed_updates=dispatcher.resolve_used_update_types(),
                close_bot_session=False,
            )
    finally:
        stop.set()
        if notifications is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(notifications, 10)
        with contextlib.suppress(Exception):
            await bot.session.close()
        await engine.dispose()
        log.info("stopped")


async def run_worker(settings: Settings, database_url: str) -> None:
    """Deliver notifications only (no updates) until SIGINT or SIGTERM."""
    if settings.bot_token is None:
        raise StartupError("BOT_TOKEN is not set: get one from @BotFather")
    engine = create_engine(database_url)
    bot = create_bot(settings, settings.bot_token.get_secret_value())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        log.info("notification worker started")
        await run_notifications(
            engine,
            database_url,
            bot=bot,
            i18n=make_i18n(settings.default_locale),
            settings=settings,
            stop=stop,
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        with contextlib.suppress(Exception):
            await bot.session.close()
        await engine.dispose()
        log.info("notification worker stopped")
