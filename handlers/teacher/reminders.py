"""Teachers' reminders: their text, snooze and off buttons, and `/reminders`.

The texts are made by the notification sender in the teacher's language; the buttons change
only the pressing account's own settings, and only a staff account may have them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext
from aiogram.utils.magic_filter import MagicFilter

from handlers.callbacks import ReminderCb
from handlers.checks import record_denied
from handlers.keyboards import BTN_REMINDERS, Keyboard
from handlers.render import day_short, esc, period_name, show
from services import reminders
from services.db.session import Session
from services.journal import PeriodRef
from services.notifications.payloads import MissingEntry, Reminder
from services.reminders import Category
from services.zones import DEFAULT_TIMEZONE

CATEGORY_NAMES = {
    Category.TOPIC: __("lesson topics"),
    Category.ATTENDANCE: __("attendance"),
    Category.HOMEWORK: __("homework assignments"),
    Category.MARKS: __("marks for written work"),
    Category.FINALS: __("final grades"),
    Category.FORBIDDEN: __("entries against the school's rules"),
}
# Told to the teacher until put right, and to the deputy anyway: not snoozed or turned off.
MUTABLE = tuple(c for c in CATEGORY_NAMES if c is not Category.FORBIDDEN)


def _what(gap: MissingEntry) -> str:
    category = gap.category
    if category == Category.TOPIC:
        return _("no topic")
    if category == Category.ATTENDANCE:
        return _("attendance not marked")
    if category == Category.HOMEWORK:
        return _("no homework")
    if category == Category.MARKS:
        return _("written work: {n} without a mark").format(n=gap.missing)
    if category == Category.FORBIDDEN:
        # seed 000 §5.8, seed 001 §4.3.6, seed 004 §5.3: the profile does not allow it.
        return ngettext(
            "an entry against the school's rules: {value} ({n} student)",
            "an entry against the school's rules: {value} ({n} students)",
            gap.missing,
        ).format(value=f"«{esc(gap.value)}»", n=gap.missing)
    return _("final grades: {n} missing").format(n=gap.missing)


def _moment(due: datetime) -> str:
    """A deadline as people say it: midnight is "24:00" of the day before."""
    if due.time() == time(0):
        return f"{day_short(due.date() - timedelta(days=1))} 24:00"
    return f"{day_short(due.date())} {due:%H:%M}"


def reminder_text(payload: Reminder) -> str:
    """One message per teacher, grouped by date, class and subject (SPEC §4)."""
    zone = ZoneInfo(payload.zone or DEFAULT_TIMEZONE)
    overdue = payload.run == reminders.Run.MORNING
    only_rules = all(g.category == Category.FORBIDDEN for g in payload.gaps)
    if only_rules:
        title = _("⚠️ Journal entries against the school's rules:")
    else:
        title = _("📋 Overdue journal entries:") if overdue else _("⏰ Journal entries due soon:")
    lines = [title]
    groups: dict[tuple[Any, ...], list[MissingEntry]] = defaultdict(list)
    for gap in payload.gaps:
        final = gap.period is not None
        key = (final, gap.day, gap.slot, gap.class_label, gap.subject, gap.subgroup)
        groups[key + ((gap.period,) if final else ())].append(gap)
    for key, items in groups.items():
        final, day, slot, label, subject, subgroup = key[:6]
        where = f"{esc(label)}" + (f" ({esc(subgroup)})" if subgroup else "")
        if final:
            kind, _sep, number = (items[0].period or "quarter:0").partition(":")
            period = period_name(PeriodRef(0, kind, int(number or 0), date.min, date.min))
            head = _("{cls}, {subject}, {period}").format(
                cls=where, subject=esc(subject), period=period
            )
        else:
            head = (
                _("{day}, {cls}, {subject}").format(
                    day=day_short(day), cls=where, subject=esc(subject)
                )
                + " "
                + _("(lesson {n})").format(n=slot)
            )
        line = f"\n<b>{head}</b>: " + "; ".join(_what(i) for i in items)
        # An entry against the rules has no deadline: it is put right.
        dues = [i.due for i in items if i.category != Category.FORBIDDEN]
        if dues:
            due = min(dues).astimezone(zone)
            line += " — " + _("due {when}").format(when=_moment(due))
        lines.append(line)
    lines.append("")
    if any(g.category == Category.FORBIDDEN for g in payload.gaps):
        lines.append(
            _(
                "Entries against the school's rules are not shown to families and not counted: "
                "please correct them in the journal."
            )
        )
    if not only_rules:
        lines.append(
            _("The buttons below snooze a kind of reminder until tomorrow or turn it off.")
        )
    return "\n".join(lines)


def reminder_keyboard(payload: Reminder) -> InlineKeyboardMarkup:
    builder = Keyboard()
    seen: list[Category] = []
    for gap in payload.gaps:
        if gap.category not in seen and gap.category in MUTABLE:
            seen.append(gap.category)
    for category in seen:
        name = CATEGORY_NAMES[Category(category)]
        builder.button(
            text=_("😴 {what}: tomorrow").format(what=name),
            callback_data=ReminderCb(a="s", c=category),
        )
        builder.button(
            text=_("🔕 {what}: off").format(what=name), callback_data=ReminderCb(a="o", c=category)
        )
    builder.adjust(2)
    return builder.as_markup()


async def _settings_screen(
    event: Message | CallbackQuery, session: Session, account_id: int
) -> None:
    connection = await session.connection()
    muted = await reminders.mutes(connection, account_id, datetime.now(UTC))
    zone = await reminders.staff_zone(connection, account_id)
    lines = [_("⏰ Reminders of journal entries"), ""]
    builder = Keyboard()
    for category in MUTABLE:
        name = CATEGORY_NAMES[category]
        if category not in muted:
            state = _("on")
            builder.button(
                text=_("😴 {what}: tomorrow").format(what=name),
                callback_data=ReminderCb(a="s", c=category, w="p"),
            )
            builder.button(
                text=_("🔕 {what}: off").format(what=name),
                callback_data=ReminderCb(a="o", c=category, w="p"),
            )
        else:
            until = muted[category]
            state = (
                _("off")
                if until is None
                else _("snoozed until {when}").format(when=_moment(until.astimezone(zone)))
            )
            builder.button(
                text=_("🔔 {what}: on").format(what=name),
                callback_data=ReminderCb(a="n", c=category, w="p"),
            )
        lines.append(f"• {name}: {state}")
    builder.adjust(2)
    await show(event, "\n".join(lines), builder.as_markup())


# The staff screens' triggers: the staff router lets only these ask who is staff.
MENUS: tuple[Filter | MagicFilter, ...] = (Command("reminders"), F.text == BTN_REMINDERS)


async def reminders_command(message: Message, session: Session, account_id: int) -> None:
    await _settings_screen(message, session, account_id)


async def for_teachers(message: Message) -> None:
    """The answer to somebody who is not staff."""
    await message.answer(_("Reminders of journal entries are for teachers."))


async def invalid_button(
    query: CallbackQuery, session: Session, account_id: int | None = None
) -> None:
    """A forged or stale button, or a press by somebody who is not staff: nothing changes."""
    await record_denied(query, session, account_id)
    await query.answer(_("This button is no longer valid."), show_alert=True)


async def reminder_button(
    query: CallbackQuery,
    callback_data: ReminderCb,
    session: Session,
    account_id: int,
) -> None:
    if callback_data.c not in {c.value for c in MUTABLE} or callback_data.a not in {
        "s",
        "o",
        "n",
    }:
        await invalid_button(query, session, account_id)
        return
    category = Category(callback_data.c)
    connection = await session.connection()
    now = datetime.now(UTC)
    name = CATEGORY_NAMES[category]
    if callback_data.a == "s":
        zone = await reminders.staff_zone(connection, account_id)
        await reminders.snooze(
            connection, account_id, category, reminders.tomorrow_morning(now, zone)
        )
        note = _("Reminders of {what} are snoozed until tomorrow.").format(what=name)
    elif callback_data.a == "o":
        await reminders.snooze(connection, account_id, category, None)
        note = _("Reminders of {what} are off. /reminders turns them on again.").format(what=name)
    else:
        await reminders.unmute(connection, account_id, category)
        note = _("Reminders of {what} are on.").format(what=name)
    await session.commit()
    await query.answer(note, show_alert=callback_data.w == "r")
    if callback_data.w == "p":
        await _settings_screen(query, session, account_id)


def create_router() -> Router:
    """For staff only: the parent router carries the staff filter."""
    router = Router(name=__name__)
    for trigger in MENUS:
        router.message.register(reminders_command, trigger)
    router.callback_query.register(reminder_button, ReminderCb.filter())
    return router
