"""Last in line: text that no screen took, a code attempt from an unlinked account."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.checks import record_denied
from handlers.common.start import redeem_code
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
            _("I did not understand that. Please use the menu buttons below, or /help."),
            reply_markup=main_menu(view.identity, view.children),
        )
        return
    await message.answer(
        _(
            "That does not look like an access code. A code has 10 letters and digits, "
            "like ABCDE-FGH23. Please send the code from the school's slip."
        )
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
    router = Router(name=__name__)
    router.message.register(redeem_code, F.text, ~F.text.startswith("/"), CodeFromStranger())
    router.message.register(text_from_stranger, F.text, ~F.text.startswith("/"))
    router.message.register(anything_else)
    router.callback_query.register(unknown_button)
    return router
