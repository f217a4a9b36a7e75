"""The deputy director's report on journal keeping on demand: any week or period, the whole
school or one class, with its XLSX (seed 004 §7.1, §4.6.5; the Friday report is the same,
made by services/reports.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.magic_filter import MagicFilter

from handlers.callbacks import DeputyCb
from handlers.checks import Check, Refusal, screen
from handlers.keyboards import BTN_JOURNAL_REPORT, Keyboard

# A module import: handlers.pushes.staff imports this package (the reminders' texts).
from handlers.pushes import staff as staff_texts
from handlers.render import day_short, esc, period_short, period_title, show
from services import access, audit, gaps, journal, reports, staff_views
from services.access import ClassRef, Identity, NotFound
from services.db.session import Session
from services.journal import PeriodRef, SchoolContext
from services.notifications.payloads import DeputyWeek

MENUS: tuple[Filter | MagicFilter, ...] = (F.text == BTN_JOURNAL_REPORT,)

# A year back is as far as the week buttons go.
MAX_WEEKS_BACK = 52


@dataclass(frozen=True)
class Choice:
    """What the report covers: the school (and maybe one class), a week or a period."""

    school_id: int
    context: SchoolContext
    klass: ClassRef | None
    weeks_back: int
    period: PeriodRef | None

    @property
    def days(self) -> tuple[date, date]:
        if self.period is not None:
            return self.period.starts_on, self.period.ends_on
        return reports.week_of(self.context.today - timedelta(weeks=self.weeks_back))

    def button(self, action: str = "r", **changes: int) -> DeputyCb:
        values = {
            "sc": self.school_id,
            "a": action,
            "c": self.klass.id if self.klass else 0,
            "w": self.weeks_back,
            "p": self.period.id if self.period else 0,
        }
        values.update(changes)
        return DeputyCb(**values)


def title(choice: Choice) -> str:
    start, end = choice.days
    if choice.period is not None:
        when = period_title(choice.period)
    else:
        when = _("the week {start} – {end}").format(start=day_short(start), end=day_short(end))
    if choice.klass is None:
        return _("📊 Journal keeping, the whole school, {when}").format(when=when)
    return _("📊 Journal keeping, class {label}, {when}").format(
        label=esc(choice.klass.label), when=when
    )


def report_text(choice: Choice, report: DeputyWeek) -> str:
    lines = staff_texts.deputy_caption(report).split("\n")[1:]
    attached = _("Per teacher and every overdue entry: in the attached file.")
    if lines and lines[-1] == attached:
        lines[-1] = _("Per teacher and every overdue entry: in the XLSX (button below).")
    if not report.teachers:
        lines = [_("No lessons in the journal for these days.")]
    return "\n".join([title(choice), *lines])


def report_keyboard(choice: Choice) -> InlineKeyboardMarkup:
    builder = Keyboard()
    if choice.period is None:
        if choice.weeks_back < MAX_WEEKS_BACK:
            builder.button(
                text=_("◀ Previous week"), callback_data=choice.button(w=choice.weeks_back + 1)
            )
        if choice.weeks_back > 0:
            builder.button(
                text=_("Next week ▶"), callback_data=choice.button(w=choice.weeks_back - 1)
            )
    else:
        builder.button(text=_("📅 This week"), callback_data=choice.button(w=0, p=0))
    builder.adjust(2)
    more = Keyboard()
    more.button(text=_("🏫 A class"), callback_data=choice.button("c"))
    if choice.klass is not None:
        more.button(text=_("🏫 The whole school"), callback_data=choice.button(c=0))
    more.button(text=_("📅 A period"), callback_data=choice.button("t"))
    more.button(text=_("📎 XLSX"), callback_data=choice.button("x"))
    more.adjust(2)
    builder.attach(more)
    return builder.as_markup()


class DeputyCheck(Check):
    """Injects the `choice` if the presser is the school's deputy director or administrator
    now, and the class and period named are the school's; "Not found." otherwise."""

    async def check(self, event: CallbackQuery, data: dict[str, Any]) -> dict[str, Any] | Refusal:
        session: Session = data["session"]
        button: DeputyCb = data["callback_data"]
        # Ids come from buttons anybody can forge: out of bigint range is simply not found.
        in_range = 0 < button.sc < 2**63
        if not in_range or not await access.is_deputy(session, data["account_id"], button.sc):
            return Refusal()
        if not 0 <= button.w <= MAX_WEEKS_BACK:
            return Refusal()
        context = await journal.school_context(session, button.sc, datetime.now(UTC))
        try:
            klass = await access.school_class(session, button.sc, button.c) if button.c else None
            period = context.period(button.p) if button.p else None
        except NotFound:
            return Refusal()
        return {"choice": Choice(button.sc, context, klass, button.w, period)}


async def _report(session: Session, choice: Choice) -> DeputyWeek:
    connection = await session.connection()
    [school] = await gaps.schools(connection, [choice.school_id])
    start, end = choice.days
    return await reports.deputy_report(
        connection,
        school,
        start=start,
        end=end,
        now=datetime.now(UTC),
        class_id=choice.klass.id if choice.klass else None,
        class_label=choice.klass.label if choice.klass else "",
    )


async def report_screen(
    event: Message | CallbackQuery, session: Session, choice: Choice, account_id: int
) -> None:
    report = await _report(session, choice)
    await audit.viewed(
        session,
        account_id=account_id,
        screen="journal_report",
        class_id=choice.klass.id if choice.klass else None,
    )
    await show(event, report_text(choice, report), report_keyboard(choice))


async def report_file(
    query: CallbackQuery, session: Session, choice: Choice, account_id: int
) -> None:
    report = await _report(session, choice)
    await audit.viewed(
        session,
        account_id=account_id,
        screen="journal_report_xlsx",
        class_id=choice.klass.id if choice.klass else None,
    )
    await query.answer()
    start, end = choice.days
    scope = choice.klass.label if choice.klass else "school"
    name = f"journal-{scope}-{start.isoformat()}-{end.isoformat()}.xlsx"
    caption = report_text(choice, report)
    if len(caption) > staff_texts.CAPTION_LIMIT:
        caption = title(choice)
    if isinstance(query.message, Message):
        await query.message.answer_document(
            BufferedInputFile(
                staff_texts.deputy_xlsx(
                    report, staff_texts.deputy_headers(report.correction_days)
                ),
                name,
            ),
            caption=caption,
        )


async def choose_class(query: CallbackQuery, session: Session, choice: Choice) -> None:
    classes = await staff_views.school_classes(
        session, choice.school_id, today=choice.context.today
    )
    builder = Keyboard()
    for klass in classes:
        builder.button(text=klass.label, callback_data=choice.button(c=klass.id))
    builder.adjust(6)
    back = Keyboard()
    back.button(text=_("🏫 The whole school"), callback_data=choice.button(c=0))
    builder.attach(back)
    await show(query, _("Which class?"), builder.as_markup())


async def choose_period(query: CallbackQuery, choice: Choice) -> None:
    context = choice.context
    builder = Keyboard()
    for term in (t for t in context.terms if t.starts_on <= context.today):
        builder.button(text=period_short(term), callback_data=choice.button(p=term.id))
    if context.year is not None:
        builder.button(text=_("The year"), callback_data=choice.button(p=context.year.id))
    builder.adjust(5)
    back = Keyboard()
    back.button(text=_("📅 This week"), callback_data=choice.button(w=0, p=0))
    builder.attach(back)
    await show(query, _("Which period?"), builder.as_markup())


async def for_deputies(message: Message) -> None:
    """The answer to somebody who is not a deputy director."""
    await message.answer(_("This screen is for the deputy director."))


async def report_menu(
    message: Message, session: Session, identity: Identity, account_id: int
) -> None:
    """The menu's report: this week, the whole school (the first school of several)."""
    if not identity.deputy_of:
        await for_deputies(message)
        return
    school_id = identity.deputy_of[0]
    context = await journal.school_context(session, school_id, datetime.now(UTC))
    await report_screen(
        message, session, Choice(school_id, context, None, 0, None), account_id=account_id
    )


def create_router() -> Router:
    """For staff only: the parent router carries the staff filter."""
    router = Router(name=__name__)
    for trigger in MENUS:
        router.message.register(report_menu, trigger)
    check = DeputyCheck()
    screen(router.callback_query, report_screen, DeputyCb.filter(F.a == "r"), check=check)
    screen(router.callback_query, report_file, DeputyCb.filter(F.a == "x"), check=check)
    screen(router.callback_query, choose_class, DeputyCb.filter(F.a == "c"), check=check)
    screen(router.callback_query, choose_period, DeputyCb.filter(F.a == "t"), check=check)
    return router
