"""What every family screen does first: find the student the viewer may see, and the calendar."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from services import access, audit, journal
from services.access import NotFound, StudentRef
from services.accounts import AccountPrefs
from services.db.session import Session
from services.journal import PeriodRef, SchoolContext

_BUTTON_PREFIX = re.compile(r"[a-z_]{1,16}")


async def record_denied(
    query: CallbackQuery, session: Session, student_id: int | None = None
) -> None:
    """A refused press of a forged or stale button goes to the audit log (within its caps).

    Only the callback data's prefix is kept, and only when it looks like one of ours: forged
    data is anybody's text.
    """
    prefix = (query.data or "").partition(":")[0]
    await audit.denied(
        session,
        account_id=query.from_user.id,
        button=prefix if _BUTTON_PREFIX.fullmatch(prefix) else "?",
        now=datetime.now(UTC),
        student_id=student_id,
    )


async def not_found(query: CallbackQuery, session: Session, student_id: int | None = None) -> None:
    """A forged or stale button: the same answer whether the object exists or not."""
    await record_denied(query, session, student_id)
    await query.answer(_("Not found."), show_alert=True)


async def student_of_button(
    query: CallbackQuery, session: Session, student_id: int
) -> StudentRef | None:
    """The student a button names, if the presser may see them right now; else answers."""
    try:
        return await access.student_for(session, query.from_user.id, student_id)
    except NotFound:
        await not_found(query, session, student_id)
        return None


async def student_of_menu(
    message: Message, session: Session, prefs: AccountPrefs | None
) -> StudentRef | None:
    """The child chosen in the switcher (or the only one, or the student themself)."""
    user = message.from_user
    assert user is not None
    child = await access.selected_child(
        session, user.id, prefs.selected_student_id if prefs else None
    )
    if child is None:
        await message.answer(_("Nothing to show: this account is not linked to a student."))
    return child


async def context_of(session: Session, student: StudentRef) -> SchoolContext:
    return await journal.school_context(session, student.school_id, datetime.now(UTC))


async def period_of_button(
    query: CallbackQuery, session: Session, context: SchoolContext, period_id: int
) -> PeriodRef | None:
    """The period a button names (0: the current one); answers "not found" for another
    school's period; None also when the school has no periods at all."""
    if period_id == 0:
        if context.current is None:
            await query.answer(no_periods())
        return context.current
    try:
        return context.period(period_id)
    except NotFound:
        await not_found(query, session)
        return None


def no_periods() -> str:
    return _("The school has not set up its academic periods yet.")


class PeriodView(NamedTuple):
    """What a screen of a period shows: whose, in which school's calendar, which period."""

    student: StudentRef
    context: SchoolContext
    period: PeriodRef


class DayView(NamedTuple):
    """What a screen of a day shows."""

    student: StudentRef
    context: SchoolContext
    day: date


async def period_of_menu(
    message: Message, session: Session, prefs: AccountPrefs | None
) -> PeriodView | None:
    """The chosen child and the current period; None (having answered) when there is none."""
    student = await student_of_menu(message, session, prefs)
    if student is None:
        return None
    context = await context_of(session, student)
    if context.current is None:
        await message.answer(no_periods())
        return None
    return PeriodView(student, context, context.current)


async def period_of_query(
    query: CallbackQuery, session: Session, student_id: int, period_id: int
) -> PeriodView | None:
    """The student and period a button names, checked; None (having answered) otherwise."""
    student = await student_of_button(query, session, student_id)
    if student is None:
        return None
    context = await context_of(session, student)
    period = await period_of_button(query, session, context, period_id)
    if period is None:
        return None
    return PeriodView(student, context, period)


async def day_of_command(
    message: Message,
    session: Session,
    prefs: AccountPrefs | None,
    args: str | None,
    *,
    default: Callable[[SchoolContext], date],
    bad_day: Callable[[], str],
) -> DayView | None:
    """The chosen child and the day a command names (`default` without one); None (having
    answered with `bad_day()`) for a date that cannot be read."""
    student = await student_of_menu(message, session, prefs)
    if student is None:
        return None
    context = await context_of(session, student)
    day = parse_day(args, context.today) if args else default(context)
    if day is None:
        await message.answer(bad_day())
        return None
    return DayView(student, context, day)


async def day_of_query(
    query: CallbackQuery, session: Session, student_id: int, ordinal: int
) -> DayView | None:
    """The student and day a button names, checked; None (having answered) otherwise."""
    student = await student_of_button(query, session, student_id)
    if student is None:
        return None
    day = day_of_button(ordinal)
    if day is None:
        await not_found(query, session)
        return None
    return DayView(student, await context_of(session, student), day)


def day_of_button(ordinal: int) -> date | None:
    """A day from a button; None for an ordinal no calendar has (a forged button)."""
    if not date(2000, 1, 1).toordinal() <= ordinal <= date(2100, 12, 31).toordinal():
        return None
    return date.fromordinal(ordinal)


_DAY = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2}|\d{4}))?\s*$")


def parse_day(text: str, today: date) -> date | None:
    """A date typed as 25.11, 25.11.2026 or 25/11/26; without a year, the one nearest today."""
    found = _DAY.match(text)
    if found is None:
        return None
    day, month, year = int(found[1]), int(found[2]), found[3]
    try:
        if year is not None:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        candidate = date(today.year, month, day)
    except ValueError:
        return None
    if candidate - today > timedelta(days=183):
        return candidate.replace(year=today.year - 1) if not (month == 2 and day == 29) else None
    if today - candidate > timedelta(days=183):
        return candidate.replace(year=today.year + 1) if not (month == 2 and day == 29) else None
    return candidate
