"""A subject teacher's classes: the marks of each in the teacher's own subject, read only.

SPEC §3 and seed 003 §3.1: a teacher reads the marks of the classes they teach, in their own
subject, and no other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.magic_filter import MagicFilter

from handlers.callbacks import TaughtCb
from handlers.checks import Check, Refusal, screen
from handlers.family.base import no_periods, period_in
from handlers.keyboards import BTN_CLASS_MARKS, Keyboard, period_row
from handlers.render import esc, mark_text, number, period_title, review_text, show
from services import access, audit, journal, staff_views
from services.access import NotFound, TaughtRef
from services.db.session import Session
from services.journal import PeriodRef, SchoolContext
from services.staff_views import PupilMarks

MENUS: tuple[Filter | MagicFilter, ...] = (F.text == BTN_CLASS_MARKS,)


def _mark(value: str, weight: Any, review: bool) -> str:
    if review:
        return review_text()
    text = mark_text(value)
    return f"<b>{text}</b>" if weight >= 2 else text


def marks_text(taught: TaughtRef, period: PeriodRef, pupils: Sequence[PupilMarks]) -> str:
    lines = [
        _("📒 {label}, {subject}: {period}").format(
            label=esc(taught.label), subject=esc(taught.subject), period=period_title(period)
        ),
        _("Read only: marks are entered in the school's journal."),
        "",
    ]
    if not pupils:
        lines.append(_("There are no students in this class."))
        return "\n".join(lines)
    for index, pupil in enumerate(pupils, 1):
        if not pupil.marks:
            lines.append(f"{index}. {esc(pupil.name)}: " + _("no marks yet"))
            continue
        marks = " ".join(_mark(*item) for item in pupil.marks)
        average = pupil.forecast.average
        tail = (
            " — " + _("avg. {average}").format(average=number(average))
            if average is not None
            else ""
        )
        lines.append(f"{index}. {esc(pupil.name)}: {marks}{tail}")
    lines.append("")
    lines.append(_("Bold: control and other heavy work."))
    return "\n".join(lines)


def marks_keyboard(
    taught: TaughtRef, context: SchoolContext, period: PeriodRef
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    period_row(
        builder, context, period, lambda p: TaughtCb(c=taught.class_id, sub=taught.subject_id, p=p)
    )
    return builder.as_markup()


class TaughtCheck(Check):
    """Injects `taught` if the presser teaches that subject in that class now, its school's
    `context` and the `period` the button names; "Not found." otherwise."""

    async def check(self, event: CallbackQuery, data: dict[str, Any]) -> dict[str, Any] | Refusal:
        session: Session = data["session"]
        button: TaughtCb = data["callback_data"]
        try:
            taught = await access.taught_for(session, data["account_id"], button.c, button.sub)
        except NotFound:
            return Refusal()
        context = await journal.school_context(
            session, taught.school_id, datetime.now(UTC), class_id=taught.class_id
        )
        period = period_in(context, button.p)
        if isinstance(period, Refusal):
            return period
        return {"taught": taught, "context": context, "period": period}


async def class_marks(
    query: CallbackQuery,
    *,
    session: Session,
    taught: TaughtRef,
    context: SchoolContext,
    period: PeriodRef,
    account_id: int,
) -> None:
    pupils = await staff_views.subject_marks(session, taught, period, context.profile)
    await audit.viewed(
        session, account_id=account_id, screen="class_marks", class_id=taught.class_id
    )
    await show(query, marks_text(taught, period, pupils), marks_keyboard(taught, context, period))


async def my_classes(message: Message, session: Session, account_id: int) -> None:
    """The classes and subjects the teacher teaches this year, as buttons."""
    school_id = await staff_views.staff_school(
        session, (await access.identity(session, account_id)).staff_ids
    )
    if school_id is None:
        await message.answer(_("This screen is for teachers."))
        return
    context = await journal.school_context(session, school_id, datetime.now(UTC))
    if context.current is None:
        await message.answer(no_periods())
        return
    taught = await staff_views.taught_classes(session, account_id, today=context.today)
    if not taught:
        await message.answer(_("No classes are assigned to you in the journal this year."))
        return
    builder = Keyboard()
    for item in taught:
        builder.button(
            text=f"{item.label} · {item.subject}",
            callback_data=TaughtCb(c=item.class_id, sub=item.subject_id),
        )
    builder.adjust(2)
    await message.answer(_("Which class and subject?"), reply_markup=builder.as_markup())


def create_router() -> Router:
    """For staff only: the parent router carries the staff filter."""
    router = Router(name=__name__)
    for trigger in MENUS:
        router.message.register(my_classes, trigger)
    screen(router.callback_query, class_marks, TaughtCb.filter(), check=TaughtCheck())
    return router
