"""The family screens' checks: the student the viewer may see, the calendar, the period or day."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.checks import Check, Refusal
from services import access, audit, journal
from services.access import NotFound, StudentRef
from services.accounts import AccountPrefs
from services.db.session import Session
from services.journal import PeriodRef, SchoolContext


class NamesStudent(Protocol):
    """A button that carries the student it shows."""

    s: int


class NamesPeriod(NamesStudent, Protocol):
    p: int  # 0: the current period


class NamesDay(NamesStudent, Protocol):
    d: int  # the day, as a proleptic ordinal


def no_periods() -> str:
    return _("The school has not set up its academic periods yet.")


async def context_of(session: Session, student: StudentRef) -> SchoolContext:
    """The school's calendar with the periods of the student's class (its grade's kind)."""
    return await journal.school_context(
        session, student.school_id, datetime.now(UTC), class_id=student.class_id
    )


def period_in(context: SchoolContext, period_id: int) -> PeriodRef | Refusal:
    """The period a button names (0: the current one): refused for another school's period,
    and with a notice when the school has no periods at all."""
    if period_id == 0:
        return Refusal(notice=no_periods()) if context.current is None else context.current
    try:
        return context.period(period_id)
    except NotFound:
        return Refusal()


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


@dataclass(frozen=True)
class Viewing:
    """What a family screen shows, checked: the student, the school's calendar, and the account
    that looks (for the audit log)."""

    student: StudentRef
    context: SchoolContext
    account_id: int

    async def viewed(self, session: Session, screen: str) -> None:
        """Records in the audit log that the account saw this student's `screen`."""
        await audit.viewed(
            session, account_id=self.account_id, student_id=self.student.id, screen=screen
        )


@dataclass(frozen=True)
class PeriodViewing(Viewing):
    period: PeriodRef


@dataclass(frozen=True)
class DayViewing(Viewing):
    day: date


class StudentCheck(Check):
    """Injects `viewing`: the student and their school's calendar. The student of a menu or a
    command is the child chosen in the switcher (or the only one, or the student themself);
    of a button, the one it names, if the presser may see them right now."""

    viewing: type[Viewing] = Viewing

    async def check(
        self, event: Message | CallbackQuery, data: dict[str, Any]
    ) -> dict[str, Any] | Refusal:
        session: Session = data["session"]
        account_id: int = data["account_id"]
        if isinstance(event, CallbackQuery):
            button: NamesStudent = data["callback_data"]
            try:
                student = await access.student_for(session, account_id, button.s)
            except NotFound:
                return Refusal(student_id=button.s)
        else:
            prefs: AccountPrefs | None = data.get("account_prefs")
            chosen = await access.selected_child(
                session, account_id, prefs.selected_student_id if prefs else None
            )
            if chosen is None:
                return Refusal(
                    notice=_("Nothing to show: this account is not linked to a student.")
                )
            student = chosen
        context = await context_of(session, student)
        more = self.narrow(event, data, context)
        if isinstance(more, Refusal):
            return more
        return {"viewing": self.viewing(student, context, account_id, **more)}

    def narrow(
        self, event: Message | CallbackQuery, data: dict[str, Any], context: SchoolContext
    ) -> dict[str, Any] | Refusal:
        """The fields of `viewing` besides the student and the calendar."""
        return {}


class PeriodCheck(StudentCheck):
    """Injects a `PeriodViewing`: the period a button names, else the current one."""

    viewing = PeriodViewing

    def narrow(
        self, event: Message | CallbackQuery, data: dict[str, Any], context: SchoolContext
    ) -> dict[str, Any] | Refusal:
        button: NamesPeriod | None = data.get("callback_data")
        period = period_in(context, button.p if button is not None else 0)
        return period if isinstance(period, Refusal) else {"period": period}


class DayCheck(StudentCheck):
    """Injects a `DayViewing`: the day a button names; for a menu or a command, the one the
    command names (/homework 25.11) or else `default`, and a date that cannot be read is
    answered with `bad_day()`."""

    viewing = DayViewing

    def __init__(
        self,
        *,
        default: Callable[[SchoolContext], date] | None = None,
        bad_day: Callable[[], str] | None = None,
    ) -> None:
        self.default = default
        self.bad_day = bad_day

    def narrow(
        self, event: Message | CallbackQuery, data: dict[str, Any], context: SchoolContext
    ) -> dict[str, Any] | Refusal:
        if isinstance(event, CallbackQuery):
            button: NamesDay = data["callback_data"]
            day = day_of_button(button.d)
            return Refusal() if day is None else {"day": day}
        assert self.default is not None and self.bad_day is not None
        command: CommandObject | None = data.get("command")
        if command is None or not command.args:
            return {"day": self.default(context)}
        day = parse_day(command.args, context.today)
        return Refusal(notice=self.bad_day()) if day is None else {"day": day}
