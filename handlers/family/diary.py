"""Homework (the next school day, any day, a week) and the timetable (today, other days)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.family.base import (
    context_of,
    day_of_command,
    day_of_query,
    student_of_menu,
)
from handlers.keyboards import BTN_HOMEWORK, BTN_TIMETABLE, HomeworkCb, Keyboard, TimetableCb
from handlers.render import clock, day_long, day_short, day_title, esc, header, show
from services import audit, journal
from services.access import StudentRef
from services.accounts import AccountPrefs
from services.db.session import Session
from services.journal import DayPlan, SchoolContext

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


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


def homework_day_text(student: StudentRef, context: SchoolContext, plan: DayPlan) -> str:
    lines = [header(student), _("📝 Homework for {day}").format(day=day_title(plan.day)), ""]
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
    session: Session,
    *,
    account_id: int,
    student: StudentRef,
    context: SchoolContext,
    day: date,
    week: bool,
) -> None:
    if week:
        start, end = context.week_of(day)
        plans = await journal.day_plans(session, student, start=start, end=end)
        text = homework_week_text(student, context, plans)
        anchor = start
    else:
        [plan] = await journal.day_plans(session, student, start=day, end=day)
        text = homework_day_text(student, context, plan)
        anchor = day
    await audit.viewed(session, account_id=account_id, student_id=student.id, screen="homework")
    await show(event, text, homework_keyboard(student, context, anchor, week=week))


@router.message(F.text == BTN_HOMEWORK)
async def homework_menu(
    message: Message, session: Session, account_prefs: AccountPrefs | None
) -> None:
    student = await student_of_menu(message, session, account_prefs)
    if student is None:
        return
    assert message.from_user is not None
    context = await context_of(session, student)
    # What a child packs the bag for: the next school day, past weekends and holidays.
    day = context.next_school_day(context.today)
    await homework_screen(
        message,
        session,
        account_id=message.from_user.id,
        student=student,
        context=context,
        day=day,
        week=False,
    )


def bad_day() -> str:
    return _("Please write the date as day and month, for example /homework 25.11.")


@router.message(Command("homework"))
async def homework_command(
    message: Message,
    command: CommandObject,
    session: Session,
    account_prefs: AccountPrefs | None,
) -> None:
    """/homework for the next school day, /homework 25.11 for a chosen one."""
    view = await day_of_command(
        message,
        session,
        account_prefs,
        command.args,
        default=lambda context: context.next_school_day(context.today),
        bad_day=bad_day,
    )
    if view is None:
        return
    assert message.from_user is not None
    await homework_screen(
        message,
        session,
        account_id=message.from_user.id,
        student=view.student,
        context=view.context,
        day=view.day,
        week=False,
    )


@router.callback_query(HomeworkCb.filter())
async def homework_button(
    query: CallbackQuery, callback_data: HomeworkCb, session: Session
) -> None:
    view = await day_of_query(query, session, callback_data.s, callback_data.d)
    if view is None:
        return
    await homework_screen(
        query,
        session,
        account_id=query.from_user.id,
        student=view.student,
        context=view.context,
        day=view.day,
        week=callback_data.week,
    )


# --- timetable --------------------------------------------------------------------------------


def timetable_text(student: StudentRef, context: SchoolContext, plan: DayPlan) -> str:
    lines = [header(student), _("🗓 Timetable for {day}").format(day=day_title(plan.day)), ""]
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
    event: Message | CallbackQuery,
    session: Session,
    *,
    account_id: int,
    student: StudentRef,
    context: SchoolContext,
    day: date,
) -> None:
    [plan] = await journal.day_plans(session, student, start=day, end=day)
    await audit.viewed(session, account_id=account_id, student_id=student.id, screen="timetable")
    await show(
        event, timetable_text(student, context, plan), timetable_keyboard(student, context, day)
    )


@router.message(F.text == BTN_TIMETABLE)
async def timetable_menu(
    message: Message, session: Session, account_prefs: AccountPrefs | None
) -> None:
    student = await student_of_menu(message, session, account_prefs)
    if student is None:
        return
    assert message.from_user is not None
    context = await context_of(session, student)
    day = context.today
    if not context.is_school_day(day) or context.now.hour >= 16:
        # After lessons, and on days off, what matters is the next school day.
        day = context.next_school_day(day)
    await timetable_screen(
        message,
        session,
        account_id=message.from_user.id,
        student=student,
        context=context,
        day=day,
    )


@router.message(Command("timetable"))
async def timetable_command(
    message: Message,
    command: CommandObject,
    session: Session,
    account_prefs: AccountPrefs | None,
) -> None:
    """/timetable for today, /timetable 25.11 for a chosen day."""
    view = await day_of_command(
        message,
        session,
        account_prefs,
        command.args,
        default=lambda context: context.today,
        bad_day=lambda: _("Please write the date as day and month, for example /timetable 25.11."),
    )
    if view is None:
        return
    assert message.from_user is not None
    await timetable_screen(
        message,
        session,
        account_id=message.from_user.id,
        student=view.student,
        context=view.context,
        day=view.day,
    )


@router.callback_query(TimetableCb.filter())
async def timetable_button(
    query: CallbackQuery, callback_data: TimetableCb, session: Session
) -> None:
    view = await day_of_query(query, session, callback_data.s, callback_data.d)
    if view is None:
        return
    await timetable_screen(
        query,
        session,
        account_id=query.from_user.id,
        student=view.student,
        context=view.context,
        day=view.day,
    )
