"""The child switcher of a guardian with several children."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import ChildCb
from handlers.checks import not_found
from handlers.keyboards import BTN_CHILD, children_keyboard, main_menu
from services import access, accounts
from services.accounts import AccountPrefs
from services.db.session import Session


async def choose_child(
    message: Message,
    session: Session,
    account_prefs: AccountPrefs | None,
    account_id: int,
) -> None:
    children = await access.family_students(session, account_id)
    if not children:
        await message.answer(_("Nothing to show: this account is not linked to a student."))
        return
    selected = await access.selected_child(
        session, account_id, account_prefs.selected_student_id if account_prefs else None
    )
    await message.answer(
        _("Whose journal do you want to see?"),
        reply_markup=children_keyboard(children, selected.id if selected else None),
    )


async def child_chosen(
    query: CallbackQuery, callback_data: ChildCb, session: Session, account_id: int
) -> None:
    try:
        child = await access.student_for(session, account_id, callback_data.student_id)
    except access.NotFound:
        # A forged or stale button: the same answer whether the student exists or not.
        await not_found(query, session, account_id, callback_data.student_id)
        return
    if child.relation is not access.Relation.GUARDIAN:
        await not_found(query, session, account_id, callback_data.student_id)
        return
    await accounts.select_student(session, account_id=account_id, student_id=child.id)
    await query.answer()
    view = await access.overview(session, account_id)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Now showing: {name}, class {label}.").format(
                name=html.escape(child.name), label=html.escape(child.class_label)
            ),
            reply_markup=main_menu(view.identity, view.children),
        )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(choose_child, F.text == BTN_CHILD)
    router.callback_query.register(child_chosen, ChildCb.filter())
    return router
