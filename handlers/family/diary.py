"""Homework (the next school day, any day, a week) and the timetable (today, other days)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import HomeworkCb, TimetableCb
from handlers.checks import screen
from handlers.family.base import DayCheck, DayViewing, NotStaffOnly
from handlers.family.dates import in_school_year
from handlers.keyboards import BTN_HOMEWORK, BTN_TIMETABLE, Keyboard
from handlers.render import (
    clock,
    day_long,
    day_short,
    day_title,
    esc,
    header,
    kind_text,
    show,
)
from services import journal
from services.access import StudentRef
from services.db.session import Session
from services.journal import DayPlan, SchoolContext


def _previous_school_day(context: SchoolContext, day: date) -> date:
    candidate = day - timedelta(days=1)
    for _i in range(400):
        if context.is_school_day(candidate):
            return candidate
        candidate -= timedelta(days=1)
    return day - timedelta(days=1)


# --- homework -----------------------------------------------------------------------------------


def _plan_lines(plan: DayPlan) -> list[str]:
    """The day's homework in the order of its lessons, each with the day it was set."""
    lines = []
    for task in plan.homework:
        lines.append(
            f"• <b>{esc(task.subject)}</b>: {esc(task.text)} "
            + _("(set {day})").format(day=day_short(task.set_on))
        )
    given = {t.subject_id for t in plan.homework}
    free = [lesson.subject for lesson in plan.lessons if lesson.subject_id not in given]
    if free and plan.homework:
        unique = list(dict.fromkeys(free))
        lines.append(_("Nothing set for: {subjects}.").format(subjects=esc(", ".join(unique))))
    return lines


def _title_day(context: SchoolContext, day: date) -> str:
    """The day in a screen's title, with its year when it is not of the current school year."""
    other_year = not in_school_year(day, context.today, context.year_starts_on)
    return day_title(day, with_year=other_year)


def homework_day_text(student: StudentRef, context: SchoolContext, plan: DayPlan) -> str:
    lines = [
        header(student),
        _("📝 Homework for {day}").format(day=_title_day(context, plan.day)),
        "",
    ]
    if plan.homework:
        lines.extend(_plan_lines(plan))
    elif not context.is_school_day(plan.day) or not plan.lessons:
        lines.append(_("No lessons on this day."))
    else:
        lines.append(_("No homework has been set for this day."))
    return "\n".join(lines)


def homework_week_text(
    student: StudentRef, context: SchoolContext, plans: Sequence[DayPlan]
) -> str:
    start, end = plans[0].day, plans[-1].day
    lines = [
        header(student),
        _("📝 Homework for the week {start} – {end}").format(
            start=day_short(start), end=day_short(end)
        ),
    ]
    if not any(p.homework for p in plans):
        lines.extend(["", _("No homework has been set for this week.")])
        return "\n".join(lines)
    for plan in plans:
        if not plan.homework:
            continue
        lines.append("")
        lines.append(f"<b>{day_long(plan.day)}</b>")
        lines.extend(_plan_lines(plan))
    return "\n".join(lines)


def homework_keyboard(
    student: StudentRef, context: SchoolContext, day: date, *, week: bool
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    if week:
        builder.button(
            text=_("◀ Previous week"),
            callback_data=HomeworkCb(
                s=student.id, d=(day - timedelta(days=7)).toordinal(), week=True
            ),
        )
        builder.button(
            text=_("Next week ▶"),
            callback_data=HomeworkCb(
                s=student.id, d=(day + timedelta(days=7)).toordinal(), week=True
            ),
        )
        builder.button(
            text=_("Next school day"),
            callback_data=HomeworkCb(
                s=student.id, d=context.next_school_day(context.today).toordinal()
            ),
        )
        builder.adjust(2, 1)
        return builder.as_markup()
    before = _previous_school_day(context, day)
    after = context.next_school_day(day)
    builder.button(
        text=f"◀ {day_short(before)}", callback_data=HomeworkCb(s=student.id, d=before.toordinal())
    )
    builder.button(
        text=f"{day_short(after)} ▶", callback_data=HomeworkCb(s=student.id, d=after.toordinal())
    )
    builder.button(
        text=_("The whole week"),
        callback_data=HomeworkCb(s=student.id, d=day.toordinal(), week=True),
    )
    builder.adjust(2, 1)
    return builder.as_markup()


async def homework_screen(
    event: Message | CallbackQuery,
    *,
    session: Session,
    viewing: DayViewing,
    callback_data: HomeworkCb | None = None,
) -> None:
    """/homework for the next school day, /homework 25.11 for a chosen one; a button's week."""
    student, context, day = viewing.student, viewing.context, viewing.day
    week = callback_data is not None and callback_data.week
    if week:
        start, end = context.week_of(day)
        plans = await journal.day_plans(session, student, start=start, end=end)
        text = homework_week_text(student, context, plans)
        anchor = start
    else:
        [plan] = await journal.day_plans(session, student, start=day, end=day)
        text = homework_day_text(student, context, plan)
        anchor = day
    await viewing.viewed(session, "homework")
    await show(event, text, homework_keyboard(student, context, anchor, week=week))


def _bag_day(context: SchoolContext) -> date:
    # What a child packs the bag for: the next school day, past weekends and holidays.
    return context.next_school_day(context.today)


def _homework_bad_day() -> str:
    return _(
        "Please write the date as day and month, for example /homework 25.11 or "
        "/homework tomorrow."
    )


# --- timetable --------------------------------------------------------------------------------


def timetable_text(student: StudentRef, context: SchoolContext, plan: DayPlan) -> str:
    lines = [
        header(student),
        _("🗓 Timetable for {day}").format(day=_title_day(context, plan.day)),
        "",
    ]
    if not plan.lessons:
        lines.append(
            _("No lessons on this day.")
            if not context.is_school_day(plan.day)
            else _("No lessons are in the timetable for this day yet.")
        )
        return "\n".join(lines)
    for lesson in plan.lessons:
        where = " · " + _("room {room}").format(room=esc(lesson.room)) if lesson.room else ""
        group = f" ({esc(lesson.subgroup)})" if lesson.subgroup else ""
        lines.append(
            f"{lesson.slot}. {clock(lesson.starts_at)}–{clock(lesson.ends_at)} "
            f"<b>{esc(lesson.subject)}</b>{group}{where}"
        )
        if lesson.substitute:
            lines.append(
                "   🔁 "
                + _("substitution: {teacher} instead of {regular}").format(
                    teacher=esc(lesson.substitute), regular=esc(lesson.teacher)
                )
            )
        elif lesson.teacher:
            lines.append(f"   {esc(lesson.teacher)}")
        if lesson.work_code is not None or lesson.work_name is not None:
            lines.append(f"   📝 {kind_text(lesson.work_code, lesson.work_name)}")
    return "\n".join(lines)


def timetable_keyboard(
    student: StudentRef, context: SchoolContext, day: date
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    before = _previous_school_day(context, day)
    after = context.next_school_day(day)
    builder.button(
        text=f"◀ {day_short(before)}",
        callback_data=TimetableCb(s=student.id, d=before.toordinal()),
    )
    builder.button(
        text=f"{day_short(after)} ▶", callback_data=TimetableCb(s=student.id, d=after.toordinal())
    )
    if day != context.today:
        builder.button(
            text=_("Today"), callback_data=TimetableCb(s=student.id, d=context.today.toordinal())
        )
    tomorrow = context.next_school_day(context.today)
    if day != tomorrow:
        builder.button(
            text=_("Next school day"),
            callback_data=TimetableCb(s=student.id, d=tomorrow.toordinal()),
        )
    builder.adjust(2, 2)
    return builder.as_markup()


async def timetable_screen(
    event: Message | CallbackQuery, *, session: Session, viewing: DayViewing
) -> None:
    """/timetable for today, /timetable 25.11 for a chosen day."""
    student, context, day = viewing.student, viewing.context, viewing.day
    [plan] = await journal.day_plans(session, student, start=day, end=day)
    await viewing.viewed(session, "timetable")
    await show(
        event, timetable_text(student, context, plan), timetable_keyboard(student, context, day)
    )


def _timetable_day(context: SchoolContext) -> date:
    """The menu's day: today, but after lessons and on days off the next school day."""
    day = context.today
    if not context.is_school_day(day) or context.now.hour >= 16:
        return context.next_school_day(day)
    return day


def _timetable_bad_day() -> str:
    return _(
        "Please write the date as day and month, for example /timetable 25.11 or "
        "/timetable tomorrow."
    )


def homework_day_check() -> DayCheck:
    """The day of a homework menu or command: the one typed, else the next school day."""
    return DayCheck(default=_bag_day, bad_day=_homework_bad_day)


def timetable_menu_check() -> DayCheck:
    """The day of the timetable's menu or words: the one typed, else today (after lessons,
    the next school day)."""
    return DayCheck(default=_timetable_day, bad_day=_timetable_bad_day)


def create_router() -> Router:
    router = Router(name=__name__)
    homework_day = homework_day_check()
    screen(router.message, homework_screen, F.text == BTN_HOMEWORK, check=homework_day)
    screen(router.message, homework_screen, Command("homework"), check=homework_day)
    screen(router.callback_query, homework_screen, HomeworkCb.filter(), check=DayCheck())
    menu_day = timetable_menu_check()
    screen(router.message, timetable_screen, F.text == BTN_TIMETABLE, check=menu_day)
    command_day = DayCheck(default=lambda context: context.today, bad_day=_timetable_bad_day)
    # A teacher's /timetable is the staff screens' (handlers/teacher); a teacher who is also
    # a parent gets the child's here.
    screen(
        router.message, timetable_screen, Command("timetable"), NotStaffOnly(), check=command_day
    )
    screen(router.callback_query, timetable_screen, TimetableCb.filter(), check=DayCheck())
    return router
