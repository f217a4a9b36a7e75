"""Outer middleware that hands each update a database session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from services.db.session import SessionFactory


class DbSessionMiddleware(BaseMiddleware):
    """One session per update; services commit what they change, the rest is rolled back."""

    def __init__(self, sessionmaker: SessionFactory) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            return await handler(event, data)
