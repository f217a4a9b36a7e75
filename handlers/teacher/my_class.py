"""The class teacher's class: an overview per student, and each student's screens, read only.

Seed 000 §6.3: the class teacher reads the whole journal of the own class and edits nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.family.base import no_periods, not_found, period_of_button
from handlers.family.marks import period_row
from handlers.keyboards import BTN_MY_CLASS, ClassCb, Keyboard, MarksCb, MarksView
from handlers.render import esc, number, period_title, show
from services import access, audit, journal
from services.access import ClassRef, NotFound
from services.db.session import Session
from services.journal import PeriodRef, SchoolContext, StudentLine

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


def overview_text(klass: ClassRef, period: PeriodRef, lines: Sequence[StudentLine]) -> str:
    out = [
        _("🏫 Class {label}, {period}").format(
            label=esc(klass.label), period=period_title(period)
        ),
        _("Average · 2s · lessons missed (without a valid reason) · late"),
        "",
    ]
    if not lines:
        out.append(_("There are no students in this class."))
        return "\n".join(out)
    for index, line in enumerate(lines, 1):
        average = number(line.average) if line.average is not None else "—"
        twos = f"<b>{line.twos}</b>" if line.twos else "0"
        out.append(
            f"{index}. {esc(line.name)} — {average} · {twos} · "
            f"{line.absent} ({line.absent_invalid}) · {line.late}"
        )
    out.append("")
    out.append(_("Press a name to open the student's marks."))
    return "\n".join(out)


def overview_keyboard(
    klass: ClassRef, context: SchoolContext, period: PeriodRef, lines: Sequence[StudentLine]
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for line in lines:
        builder.button(
            text=line.name,
            callback_data=MarksCb(s=line.student_id, v=MarksView.PERIOD, p=period.id),
        )
    builder.adjust(2)
    period_row(builder, context, period, lambda p: ClassCb(c=klass.id, p=p))
    return builder.as_markup()


async def class_screen(
    event: Message | CallbackQuery,
    session: Session,
    account_id: int,
    klass: ClassRef,
    period_id: int,
) -> None:
    context = await journal.school_context(session, klass.school_id, _now())
    if isinstance(event, CallbackQuery):
        period = await period_of_button(event, session, context, period_id)
    else:
        period = context.current
        if period is None:
            await event.answer(no_periods())
    if period is None:
        return
    lines = await journal.class_overview(session, klass, period)
    await audit.viewed(session, account_id=account_id, screen="class", class_id=klass.id)
    await show(
        event,
        overview_text(klass, period, lines),
        overview_keyboard(klass, context, period, lines),
    )


def _now() -> datetime:
    return datetime.now(UTC)


@router.message(F.text == BTN_MY_CLASS)
async def my_class_menu(message: Message, session: Session) -> None:
    user = message.from_user
    assert user is not None
    who = await access.identity(session, user.id)
    if not who.class_teacher_of:
        await message.answer(_("This screen is for class teachers."))
        return
    if len(who.class_teacher_of) > 1:
        builder = Keyboard()
        for class_id in who.class_teacher_of:
            klass = await access.class_for(session, user.id, class_id)
            builder.button(text=klass.label, callback_data=ClassCb(c=class_id))
        builder.adjust(4)
        await message.answer(_("Which class?"), reply_markup=builder.as_markup())
        return
    klass = await access.class_for(session, user.id, who.class_teacher_of[0])
    await class_screen(message, session, user.id, klass, 0)


@router.callback_query(ClassCb.filter())
async def class_button(query: CallbackQuery, callback_data: ClassCb, session: Session) -> None:
    try:
        klass = await access.class_for(session, query.from_user.id, callback_data.c)
    except NotFound:
        await not_found(query, session)
        return
    await class_screen(query, session, query.from_user.id, klass, callback_data.p)
