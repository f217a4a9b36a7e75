"""Last in line: text that no screen took, a code attempt from an unlinked account."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.checks import record_denied
from handlers.common.start import redeem_and_reply
from handlers.keyboards import main_menu
from services import access, linking
from services.accounts import AccountPrefs
from services.db.session import Session


async def text_from_stranger(
    message: Message,
    *,
    session: Session,
    code_secret: bytes,
    account_id: int,
    account_prefs: AccountPrefs | None,
    i18n: I18n,
) -> None:
    """Any text: for an unlinked account, a code attempt when it looks like one."""
    assert message.text is not None
    view = await access.overview(session, account_id)
    if view.identity.is_linked:
        await message.answer(
            _("I did not understand that. Please use the menu buttons below, or /help."),
            reply_markup=main_menu(view.identity, view.children),
        )
        return
    if linking.normalize_code(message.text) is None:
        await message.answer(
            _(
                "That does not look like an access code. A code has 10 letters and digits, "
                "like ABCDE-FGH23. Please send the code from the school's slip."
            )
        )
        return
    await redeem_and_reply(
        message,
        session,
        message.text,
        code_secret=code_secret,
        account_id=account_id,
        account_prefs=account_prefs,
        i18n=i18n,
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
    router.message.register(text_from_stranger, F.text, ~F.text.startswith("/"))
    router.message.register(anything_else)
    router.callback_query.register(unknown_button)
    return router
