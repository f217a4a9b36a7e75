"""A person whose access the school has revoked (`journalbot access revoke`, seed 002
§4.3–4.4) is told so at their next message or button press, and what to do: the old menu
goes, and a new code from the school brings them back (so a code, /start with one, /help and
/language still reach their handlers)."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from services import linking
from services.accounts import AccountPrefs

# Still answered as usual: how to come back, and the language to read it in.
_PASS = ("/help", "/language")


class EndedBySchool(Filter):
    """An update from an account that the school has cut off, other than a way back in."""

    async def __call__(self, event: Message | CallbackQuery, **data: Any) -> bool:
        prefs: AccountPrefs | None = data.get("account_prefs")
        if prefs is None or not prefs.cut_off:
            return False
        if isinstance(event, Message):
            text = (event.text or "").strip()
            command, _sep, argument = text.partition(" ")
            if command.split("@", 1)[0] in _PASS or event.contact is not None:
                return False
            if command == "/start" and argument.strip():
                return False
            if text and linking.normalize_code(text) is not None:
                return False
        return True


def revoked_text() -> str:
    return _(
        "The school has ended this account's access to the journal, so nothing from it is "
        "shown here any more. If you think this is a mistake, or to use the bot again, please "
        "contact the school's journal administrator or the class teacher: they will give you "
        "a new access code to send me."
    )


async def told_message(message: Message) -> None:
    await message.answer(revoked_text(), reply_markup=ReplyKeyboardRemove())


async def told_button(query: CallbackQuery) -> None:
    # An alert holds 200 characters: the short form.
    await query.answer(
        _(
            "The school has ended this account's access to the journal. Please ask the school "
            "for a new access code."
        ),
        show_alert=True,
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(told_message, EndedBySchool())
    router.callback_query.register(told_button, EndedBySchool())
    return router
