"""The audience filters that parent routers carry: the kind of chat, and staff."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import Chat, TelegramObject

from services import access
from services.db.session import Session


class PrivateChat(Filter):
    """An update from a private chat (with `private=False`: from a group or a channel)."""

    def __init__(self, *, private: bool = True) -> None:
        self.private = private

    async def __call__(self, event: TelegramObject, event_chat: Chat | None = None) -> bool:
        # A press under an inline-mode message carries no chat: it belongs to neither audience.
        return event_chat is not None and (event_chat.type == ChatType.PRIVATE) is self.private


def only_in(router: Router, chat: PrivateChat) -> Router:
    """The router takes messages, button presses and membership changes of these chats only."""
    for observer in (router.message, router.callback_query, router.my_chat_member):
        observer.filter(chat)
    return router


class Staff(Filter):
    """A member of the school's staff: injects their `identity`."""

    async def __call__(
        self, event: TelegramObject, session: Session, account_id: int | None = None
    ) -> bool | dict[str, Any]:
        if account_id is None:
            return False
        identity = await access.identity(session, account_id)
        return {"identity": identity} if identity.is_staff else False
