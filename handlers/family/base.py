"""What every family screen does first: find the student the viewer may see, and the calendar."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from services import access, journal
from services.access import NotFound, StudentRef
from services.accounts import AccountPrefs
from services.db.session import Session
from services.journal import PeriodRef, SchoolContext


async def not_found(query: CallbackQuery) -> None:
    """A forged or stale button: the same answer whether the object exists or not."""
    await query.answer(_("Not found."), show_alert=True)


async def student_of_button(
    query: CallbackQuery, session: Session, student_id: int
) -> StudentRef | None:
    """The student a button names, if the presser may see them right now; else answers."""
    try:
        return await access.student_for(session, query.from_user.id, student_id)
    except NotFound:
        await not_found(query)
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
    query: CallbackQuery, context: SchoolContext, period_id: int
) -> PeriodRef | None:
    """The period a button names (0: the current one); answers "not found" for another
    school's period; None also when the school has no periods at all."""
    if period_id == 0:
        if context.current is None:
            await query.answer(_("The school has not set up its academic periods yet."))
        return context.current
    try:
        return context.period(period_id)
    except NotFound:
        await not_found(query)
        return None


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
