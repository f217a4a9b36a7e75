"""Outer middlewares: a database session per update, and the account the update comes from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import Chat, TelegramObject, User

from handlers.languages import pick_language
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
    """Finds the account of the update's sender on this channel: `account_prefs` (the stored
    language, zone and chosen child) and `account_id`, which the handlers and services use.

    A private chat's first update creates the account in the update's transaction, in the
    language Telegram reports; it is kept only if a handler commits (a /start, a code).
    Updates from groups carry no account.
    """

    def __init__(self, channel: accounts.Channel, *, default_locale: str) -> None:
        self.channel = channel
        self.default_locale = default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        session: Session = data["session"]
        found = await accounts.find(session, self.channel, user.id) if user is not None else None
        if (
            found is None
            and user is not None
            and chat is not None
            and chat.type == ChatType.PRIVATE
        ):
            language = pick_language(user.language_code, self.default_locale)
            account_id = await accounts.ensure(
                session, channel=self.channel, user_id=user.id, chat_id=chat.id, language=language
            )
            found = accounts.AccountPrefs(
                id=account_id, language=language, timezone=None, selected_student_id=None
            )
        data["account_prefs"] = found
        data["account_language"] = found.language if found else None
        if found is not None:
            data["account_id"] = found.id
        return await handler(event, data)
