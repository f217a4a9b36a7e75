"""The class teacher's class: an overview per student, and each student's screens, read only.

Seed 000 §6.3: the class teacher reads the whole journal of the own class and edits nothing.
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

from handlers.callbacks import CardCb, ClassCb, ClassToolCb
from handlers.checks import Check, Refusal, screen
from handlers.family.base import no_periods, period_in
from handlers.keyboards import BTN_MY_CLASS, Keyboard, period_row
from handlers.render import esc, number, period_title, show
from services import access, audit, journal
from services.access import ClassRef, Identity, NotFound
from services.db.session import Session
from services.journal import PeriodRef, SchoolContext, StudentLine

# The staff screen's trigger: the staff router lets only this ask who is staff.
MENUS: tuple[Filter | MagicFilter, ...] = (F.text == BTN_MY_CLASS,)


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
    out.append(_("Press a name to open the student's card."))
    return "\n".join(out)


def overview_keyboard(
    klass: ClassRef, context: SchoolContext, period: PeriodRef, lines: Sequence[StudentLine]
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for line in lines:
        builder.button(
            text=line.name,
            callback_data=CardCb(s=line.student_id, p=period.id),
        )
    builder.adjust(2)
    period_row(builder, context, period, lambda p: ClassCb(c=klass.id, p=p))
    tools = Keyboard()
    tools.button(text=_("👪 Families"), callback_data=ClassToolCb(c=klass.id, a="f"))
    tools.button(text=_("🔑 Access codes"), callback_data=ClassToolCb(c=klass.id, a="k"))
    tools.button(text=_("📅 The class's week"), callback_data=ClassToolCb(c=klass.id, a="w"))
    tools.adjust(2, 1)
    builder.attach(tools)
    return builder.as_markup()


async def class_screen(
    event: Message | CallbackQuery,
    *,
    session: Session,
    klass: ClassRef,
    context: SchoolContext,
    period: PeriodRef,
    account_id: int,
) -> None:
    lines = await journal.class_overview(session, klass, period)
    await audit.viewed(session, account_id=account_id, screen="class", class_id=klass.id)
    await show(
        event,
        overview_text(klass, period, lines),
        overview_keyboard(klass, context, period, lines),
    )


def _now() -> datetime:
    return datetime.now(UTC)


class ClassOfButton(Check):
    """Injects `klass`, if the presser is its class teacher, its school's `context` and the
    `period` the button names."""

    async def check(self, event: CallbackQuery, data: dict[str, Any]) -> dict[str, Any] | Refusal:
        session: Session = data["session"]
        button: ClassCb = data["callback_data"]
        try:
            klass = await access.class_for(session, data["account_id"], button.c)
        except NotFound:
            return Refusal()
        context = await journal.school_context(session, klass.school_id, _now(), class_id=klass.id)
        period = period_in(context, button.p)
        if isinstance(period, Refusal):
            return period
        return {"klass": klass, "context": context, "period": period}


async def for_class_teachers(message: Message) -> None:
    """The answer to somebody who is not a class teacher."""
    await message.answer(_("This screen is for class teachers."))


async def my_class_menu(
    message: Message, session: Session, identity: Identity, account_id: int
) -> None:
    if not identity.class_teacher_of:
        await for_class_teachers(message)
        return
    if len(identity.class_teacher_of) > 1:
        builder = Keyboard()
        for class_id in identity.class_teacher_of:
            klass = await access.class_for(session, account_id, class_id)
            builder.button(text=klass.label, callback_data=ClassCb(c=class_id))
        builder.adjust(4)
        await message.answer(_("Which class?"), reply_markup=builder.as_markup())
        return
    klass = await access.class_for(session, account_id, identity.class_teacher_of[0])
    context = await journal.school_context(session, klass.school_id, _now(), class_id=klass.id)
    if context.current is None:
        await message.answer(no_periods())
        return
    await class_screen(
        message,
        session=session,
        account_id=account_id,
        klass=klass,
        context=context,
        period=context.current,
    )


def create_router() -> Router:
    """For staff only: the parent router carries the staff filter."""
    router = Router(name=__name__)
    for trigger in MENUS:
        router.message.register(my_class_menu, trigger)
    screen(router.callback_query, class_screen, ClassCb.filter(), check=ClassOfButton())
    return router
