"""Last in line: text that no screen took, a code attempt from an unlinked account."""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.checks import record_denied
from handlers.common.start import redeem_code
from handlers.family import typed
from handlers.keyboards import main_menu
from services import access, linking
from services.db.session import Session


class CodeFromStranger(Filter):
    """Passes text that looks like an access code from an unlinked account, injecting `code`."""

    async def __call__(self, message: Message, **data: Any) -> bool | dict[str, Any]:
        if message.text is None or linking.normalize_code(message.text) is None:
            return False
        view = await access.overview(data["session"], data["account_id"])
        return False if view.identity.is_linked else {"code": message.text}


async def text_from_stranger(message: Message, *, session: Session, account_id: int) -> None:
    """Any other text: for an unlinked account, a word on what a code looks like."""
    view = await access.overview(session, account_id)
    if view.identity.is_linked:
        await message.answer(
            _("I did not understand that. Please use the menu buttons below, or /help.")
            + "\n"
            + _(
                "You can also write what you need in words: marks, homework for tomorrow, "
                "timetable for Friday, or a date like 3.12."
            ),
            reply_markup=main_menu(view.identity, view.children),
        )
        return
    await message.answer(
        _(
            "That does not look like an access code. A code has 10 letters and digits, "
            "like ABCDE-FGH23. Please send the code from the school's slip."
        )
    )


def commands_text() -> str:
    """The commands of the family screens and the account, one a line."""
    return _(
        "/marks: marks of the period\n"
        "/today: today's marks\n"
        "/week: this week's marks\n"
        "/forecast: the forecast of final grades\n"
        "/finals: final grades of the year\n"
        "/homework: homework; /homework tomorrow or /homework 25.11 for a chosen day\n"
        "/timetable: the timetable; /timetable 25.11 for a chosen day\n"
        "/attendance: absences and lateness\n"
        "/history: the latest notifications\n"
        "/settings: notifications and language\n"
        "/help: what the bot can do"
    )


async def unknown_command(message: Message) -> None:
    """A command no screen took: which ones there are, rather than a word on text messages."""
    command = (message.text or "").split(maxsplit=1)[0].partition("@")[0]
    await message.answer(
        _("I do not know the command {command}. These are the commands:").format(
            command=html.escape(command[:40])
        )
        + "\n"
        + commands_text()
    )


async def anything_else(message: Message) -> None:
    await message.answer(
        _("I understand text messages and the menu buttons only. Please use /help.")
    )


async def unknown_button(
    query: CallbackQuery, session: Session, account_id: int | None = None
) -> None:
    # Data no screen could parse: a forged button, or one from an older version of the bot.
    await record_denied(query, session, account_id)
    await query.answer(
        _("This button is out of date. Please open the screen again from the menu."),
        show_alert=True,
    )


def create_router() -> Router:
    """Family screens asked for in words first, then the answers to anything else: both after
    every other router, so that text another screen waits for is never read as a request."""
    router = Router(name=__name__)
    rest = Router(name=f"{__name__}.rest")
    router.include_routers(typed.create_router(), rest)
    rest.message.register(redeem_code, F.text, ~F.text.startswith("/"), CodeFromStranger())
    rest.message.register(text_from_stranger, F.text, ~F.text.startswith("/"))
    rest.message.register(unknown_command, F.text.startswith("/"))
    rest.message.register(anything_else)
    rest.callback_query.register(unknown_button)
    return router
