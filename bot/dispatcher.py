"""The dispatcher factory that production, the demo and the tests all use."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.utils.i18n import I18n

from bot.health import UpdateMetricsMiddleware
from bot.i18n import LocaleMiddleware, make_i18n
from bot.middlewares import AccountMiddleware, DbSessionMiddleware
from handlers import create_router
from services import accounts
from services.db.session import SessionFactory


def create_dispatcher(
    *,
    sessionmaker: SessionFactory,
    i18n: I18n | None = None,
    code_secret: bytes,
    storage: BaseStorage | None = None,
) -> Dispatcher:
    """Handlers receive `session`, `i18n`, `code_secret` and the account: its
    `account_id` and `account_prefs`."""
    dispatcher = Dispatcher(storage=storage or MemoryStorage(), code_secret=code_secret)
    # First, so that the time measured includes the session and account look-up.
    dispatcher.update.outer_middleware(UpdateMetricsMiddleware())
    dispatcher.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    i18n = i18n or make_i18n()
    dispatcher.update.outer_middleware(
        AccountMiddleware(accounts.Channel.TELEGRAM, default_locale=i18n.default_locale)
    )
    LocaleMiddleware(i18n).setup(dispatcher)
    dispatcher.include_router(create_router())
    return dispatcher
