"""A pupil's whole card for the class teacher: marks, forecast, attendance, homework and final
grades on one screen, read only, with the way back to the class (seed 000 §6.3; seed 003 §3.1:
the class teacher reads "успеваемость, посещаемость, домашние задания")."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import (
    AttendanceCb,
    CardCb,
    ClassCb,
    FinalsCb,
    HomeworkCb,
    MarksCb,
    MarksView,
    ReportCb,
)
from handlers.checks import Check, Refusal, screen
from handlers.family.base import context_of, period_in
from handlers.family.diary import homework_day_text
from handlers.family.marks import forecast_text, period_text
from handlers.family.records import attendance_text, finals_text
from handlers.keyboards import Keyboard, period_row
from handlers.render import header, show
from services import access, audit, journal
from services.access import ClassRef, NotFound, StudentRef
from services.db.session import Session
from services.journal import PeriodRef, SchoolContext


def _body(text: str, student: StudentRef) -> str:
    """A family screen's text without its header line: the card names the pupil once."""
    top = header(student)
    return text[len(top) :].lstrip("\n") if text.startswith(top) else text


async def card_text(
    session: Session, student: StudentRef, context: SchoolContext, period: PeriodRef
) -> str:
    profile = context.profile
    subjects = await journal.period_subjects(session, student, period, profile)
    summary = await journal.attendance(session, student, period)
    finals = await journal.finals(session, student, context)
    day = context.next_school_day(context.today)
    [plan] = await journal.day_plans(session, student, start=day, end=day)
    sections = [
        header(student),
        _body(period_text(student, period, subjects), student),
        _body(forecast_text(student, period, subjects, min_marks=profile.min_marks), student),
        _body(attendance_text(student, period, summary), student),
        _body(homework_day_text(student, context, plan), student),
        _body(finals_text(student, context, finals), student),
    ]
    return "\n\n".join(sections)


def card_keyboard(
    student: StudentRef, klass: ClassRef, context: SchoolContext, period: PeriodRef
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("Today"), callback_data=MarksCb(s=student.id, v=MarksView.TODAY, p=period.id)
    )
    builder.button(
        text=_("Week"), callback_data=MarksCb(s=student.id, v=MarksView.WEEK, p=period.id)
    )
    builder.button(
        text=_("📈 Forecast"),
        callback_data=MarksCb(s=student.id, v=MarksView.FORECAST, p=period.id),
    )
    builder.button(
        text=_("📘 Marks"), callback_data=MarksCb(s=student.id, v=MarksView.PERIOD, p=period.id)
    )
    builder.button(text=_("🚸 Attendance"), callback_data=AttendanceCb(s=student.id, p=period.id))
    builder.button(
        text=_("📝 Homework"),
        callback_data=HomeworkCb(
            s=student.id, d=context.next_school_day(context.today).toordinal()
        ),
    )
    builder.button(text=_("🏁 Final grades"), callback_data=FinalsCb(s=student.id))
    builder.button(text=_("📄 Report card"), callback_data=ReportCb(s=student.id, p=period.id))
    builder.adjust(4, 2, 2)
    period_row(builder, context, period, lambda p: CardCb(s=student.id, p=p))
    back = Keyboard()
    back.button(
        text=_("◀ Class {label}").format(label=klass.label),
        callback_data=ClassCb(c=klass.id, p=period.id),
    )
    builder.attach(back)
    return builder.as_markup()


class CardCheck(Check):
    """Injects the `student`, their `klass` if the presser is its class teacher now, the
    school's `context` and the `period`; "Not found." for anybody else (a parent included:
    the card is the class teacher's)."""

    async def check(self, event: CallbackQuery, data: dict[str, Any]) -> dict[str, Any] | Refusal:
        session: Session = data["session"]
        button: CardCb = data["callback_data"]
        account_id: int = data["account_id"]
        try:
            student = await access.student_for(session, account_id, button.s)
            if student.class_id is None:
                raise NotFound(button.s)
            klass = await access.class_for(session, account_id, student.class_id)
        except NotFound:
            return Refusal(student_id=button.s)
        context = await context_of(session, student)
        period = period_in(context, button.p)
        if isinstance(period, Refusal):
            return period
        return {"student": student, "klass": klass, "context": context, "period": period}


async def pupil_card(
    query: CallbackQuery,
    *,
    session: Session,
    student: StudentRef,
    klass: ClassRef,
    context: SchoolContext,
    period: PeriodRef,
    account_id: int,
) -> None:
    text = await card_text(session, student, context, period)
    await audit.viewed(session, account_id=account_id, student_id=student.id, screen="card")
    await show(query, text, card_keyboard(student, klass, context, period))


def create_router() -> Router:
    """For staff only: the parent router carries the staff filter."""
    router = Router(name=__name__)
    screen(router.callback_query, pupil_card, CardCb.filter(), check=CardCheck())
    return router
