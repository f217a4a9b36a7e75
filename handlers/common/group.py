"""In groups and channels the bot shows nothing: a journal is private (the parent router
lets only their updates in)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _


async def only_private(message: Message) -> None:
    await message.answer(_("I work only in a private chat. Open a chat with me to continue."))


async def only_private_button(query: CallbackQuery) -> None:
    await query.answer(
        _("I work only in a private chat. Open a chat with me to continue."), show_alert=True
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(only_private)
    router.callback_query.register(only_private_button)
    return router
