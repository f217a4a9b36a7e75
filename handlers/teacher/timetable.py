"""A teacher's own lessons: today, the next school day and any day, substitutions included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.magic_filter import MagicFilter

from handlers.callbacks import StaffDayCb
from handlers.checks import Check, Refusal, screen
from handlers.family.base import day_of_button, parse_day
from handlers.keyboards import BTN_MY_LESSONS, Keyboard
from handlers.render import clock, day_short, day_title, esc, show
from services import access, audit, journal, staff_views
from services.access import Identity
from services.db.session import Session
from services.journal import SchoolContext
from services.staff_views import TeacherLesson

# The menu button and /lessons are the teacher's own; /timetable is theirs when they are in no
# family (the family's /timetable lets it through: handlers/family/base.py NotStaffOnly), and
# a teacher who is also a parent gets the child's timetable there and their own from here.
OWN_MENUS: tuple[Filter | MagicFilter, ...] = (F.text == BTN_MY_LESSONS, Command("lessons"))
MENUS: tuple[Filter | MagicFilter, ...] = (*OWN_MENUS, Command("timetable"))


def lessons_text(context: SchoolContext, day: date, lessons: list[TeacherLesson]) -> str:
    lines = [_("🗓 My lessons for {day}").format(day=day_title(day)), ""]
    if not lessons:
        lines.append(
            _("No lessons on this day.")
            if not context.is_school_day(day)
            else _("You have no lessons in the timetable for this day.")
        )
        return "\n".join(lines)
    for lesson in lessons:
        where = " · " + _("room {room}").format(room=esc(lesson.room)) if lesson.room else ""
        group = f" ({esc(lesson.subgroup)})" if lesson.subgroup else ""
        lines.append(
            f"{lesson.slot}. {clock(lesson.starts_at)}–{clock(lesson.ends_at)} "
            f"<b>{esc(lesson.class_label)}</b>{group}, {esc(lesson.subject)}{where}"
        )
        if lesson.instead_of:
            lines.append(
                "   🔁 "
                + _("substitution: you stand in for {teacher}").format(
                    teacher=esc(lesson.instead_of)
                )
            )
        elif lesson.taken_by:
            lines.append(
                "   🔁 "
                + _("taken by {teacher} instead of you").format(teacher=esc(lesson.taken_by))
            )
        if lesson.topic:
            lines.append("   " + _("Topic: {topic}").format(topic=esc(lesson.topic)))
    return "\n".join(lines)


def _previous_school_day(context: SchoolContext, day: date) -> date:
    candidate = day - timedelta(days=1)
    for _i in range(400):
        if context.is_school_day(candidate):
            return candidate
        candidate -= timedelta(days=1)
    return day - timedelta(days=1)


def lessons_keyboard(context: SchoolContext, day: date) -> InlineKeyboardMarkup:
    builder = Keyboard()
    before = _previous_school_day(context, day)
    after = context.next_school_day(day)
    builder.button(text=f"◀ {day_short(before)}", callback_data=StaffDayCb(d=before.toordinal()))
    builder.button(text=f"{day_short(after)} ▶", callback_data=StaffDayCb(d=after.toordinal()))
    if day != context.today:
        builder.button(text=_("Today"), callback_data=StaffDayCb(d=context.today.toordinal()))
    tomorrow = context.next_school_day(context.today)
    if day != tomorrow:
        builder.button(text=_("Next school day"), callback_data=StaffDayCb(d=tomorrow.toordinal()))
    builder.adjust(2, 2)
    return builder.as_markup()


def _bad_day() -> str:
    return _("Please write the date as day and month, for example /timetable 25.11.")


class StaffDayCheck(Check):
    """Injects `identity`, the staff member's school `context` and the `day`: a button's, a
    command's (/timetable 25.11), else today (after 16:00 and on days off the next school
    day). Refuses anybody who is not on the staff now."""

    async def check(
        self, event: Message | CallbackQuery, data: dict[str, Any]
    ) -> dict[str, Any] | Refusal:
        session: Session = data["session"]
        identity = await access.identity(session, data["account_id"])
        school_id = await staff_views.staff_school(session, identity.staff_ids)
        if school_id is None:
            return Refusal(notice=_("This screen is for teachers."))
        context = await journal.school_context(session, school_id, datetime.now(UTC))
        button: StaffDayCb | None = data.get("callback_data")
        command: CommandObject | None = data.get("command")
        day: date | None
        if button is not None:
            day = day_of_button(button.d)
            if day is None:
                return Refusal()
        elif command is not None and command.args:
            day = parse_day(command.args, context.today)
            if day is None:
                return Refusal(notice=_bad_day())
        elif command is not None:
            day = context.today
        else:
            day = context.today
            if not context.is_school_day(day) or context.now.hour >= 16:
                day = context.next_school_day(day)
        return {"identity": identity, "context": context, "day": day}


async def my_lessons(
    event: Message | CallbackQuery,
    *,
    session: Session,
    identity: Identity,
    context: SchoolContext,
    day: date,
    account_id: int,
) -> None:
    lessons = await staff_views.teacher_lessons(session, identity.staff_ids, day=day)
    await audit.viewed(session, account_id=account_id, screen="staff_timetable")
    await show(event, lessons_text(context, day, lessons), lessons_keyboard(context, day))


async def for_teachers(message: Message) -> None:
    """The answer to somebody who is not on the staff."""
    await message.answer(_("This screen is for teachers."))


def create_router() -> Router:
    """For staff only: the parent router carries the staff filter."""
    router = Router(name=__name__)
    screen(router.message, my_lessons, F.text == BTN_MY_LESSONS, check=StaffDayCheck())
    for command in (Command("lessons"), Command("timetable")):
        screen(router.message, my_lessons, command, check=StaffDayCheck())
    screen(router.callback_query, my_lessons, StaffDayCb.filter(), check=StaffDayCheck())
    return router
