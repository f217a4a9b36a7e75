"""/lost, "I lost my phone": a person ends every session of theirs at once (seed 002 §4.3–4.4).

Every link of every person this account is linked to ends, on every account, with their unused
codes; phone login stays shut until the school gives a new code. Asked once more first: the
step cannot be undone from the bot.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.callbacks import LostCb
from handlers.keyboards import Keyboard
from services import access, linking
from services.db.session import Session


async def lost_command(message: Message, session: Session, account_id: int) -> None:
    view = await access.overview(session, account_id)
    if not view.identity.is_linked:
        await message.answer(_("This Telegram account is not linked to anybody."))
        return
    builder = Keyboard()
    builder.button(text=_("End all sessions"), callback_data=LostCb(a="go"))
    builder.button(text=_("Cancel"), callback_data=LostCb(a="keep"))
    builder.adjust(1)
    await message.answer(
        _(
            "Lost your phone, or think somebody else uses your account? I can end all your "
            "sessions at once: every Telegram account linked to you loses access to the "
            "journal, and unused codes stop working. To come back you will need a new code "
            "from the school."
        ),
        reply_markup=builder.as_markup(),
    )


async def lost_chosen(
    query: CallbackQuery, callback_data: LostCb, session: Session, account_id: int
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.a != "go":
        await query.message.edit_text(_("Nothing has changed."))
        return
    people = await linking.report_lost(session, account_id=account_id, now=datetime.now(UTC))
    if not people:
        await query.message.edit_text(_("This Telegram account is not linked to anybody."))
        return
    await query.message.edit_text(
        ngettext(
            "Done: all sessions of {n} person are ended.",
            "Done: all sessions of {n} people are ended.",
            people,
        ).format(n=people)
    )
    await query.message.answer(
        _(
            "Please contact the school's journal administrator or the class teacher: they "
            "will check who you are and give you a new access code."
        ),
        reply_markup=ReplyKeyboardRemove(),
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(lost_command, Command("lost"))
    router.callback_query.register(lost_chosen, LostCb.filter())
    return router
