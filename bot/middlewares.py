"""Outer middlewares: a database session per update, and the account's stored language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from services import accounts
from services.db.session import Session, SessionFactory

# What a middleware calls to go on: the next middleware, or the handler itself.
Handler: TypeAlias = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """One session per update; services commit what they change, the rest is rolled back."""

    def __init__(self, sessionmaker: SessionFactory) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            return await handler(event, data)


class AccountMiddleware(BaseMiddleware):
    """Looks up the sender's stored preferences so replies use their chosen language."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        session: Session = data["session"]
        found = await accounts.prefs(session, user.id) if user is not None else None
        data["account_prefs"] = found
        data["account_language"] = found.language if found else None
        return await handler(event, data)
