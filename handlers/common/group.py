"""In groups and channels the bot shows nothing: a journal is private."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

router = Router(name=__name__)
router.message.filter(F.chat.type != "private")
router.callback_query.filter(F.message.chat.type != "private")


@router.message()
async def only_private(message: Message) -> None:
    await message.answer(_("I work only in a private chat. Open a chat with me to continue."))


@router.callback_query()
async def only_private_button(query: CallbackQuery) -> None:
    await query.answer(
        _("I work only in a private chat. Open a chat with me to continue."), show_alert=True
    )
