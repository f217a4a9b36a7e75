"""The family screens' checks: the student the viewer may see, the calendar, the period or day."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from aiogram.filters import CommandObject, Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from handlers.checks import Check, Refusal
from handlers.family.dates import NoSuchDay, read_day
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


def parse_day(text: str, today: date, year_start: date | None = None) -> date | None:
    """A typed day (`dates.read_day`: 25.11, 3.12.2026, 2026-12-03, завтра); None for text
    that is not a day or a date the calendar does not have."""
    day = read_day(text, today=today, year_start=year_start)
    return day if isinstance(day, date) else None


def no_such_day(day: NoSuchDay) -> str:
    """The answer to 31.02: the form was right, the calendar has no such day."""
    typed = f"{day.day:02d}.{day.month:02d}" + (f".{day.year}" if day.year else "")
    return _("There is no such date: {date}. Please check the day and the month.").format(
        date=typed
    )


class NotStaffOnly(Filter):
    """Passes unless the account is staff and nobody's family: a teacher's command of the same
    name (/timetable) is theirs, not the family screen's."""

    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        account_id: int | None = data.get("account_id")
        if account_id is None:
            return False
        who = await access.identity(data["session"], account_id)
        return who.is_family or not who.is_staff


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
        typed = typed_day(data)
        if not typed:
            return {"day": self.default(context)}
        read = read_day(typed, today=context.today, year_start=context.year_starts_on)
        if isinstance(read, NoSuchDay):
            return Refusal(notice=no_such_day(read))
        return Refusal(notice=self.bad_day()) if read is None else {"day": read}


def typed_day(data: dict[str, Any]) -> str:
    """The day a message names: a command's argument (/homework 25.11), or what follows the
    words of a screen (дз на завтра: `typed_rest`, injected by `words.Typed`)."""
    rest: str | None = data.get("typed_rest")
    if rest is not None:
        return rest
    command: CommandObject | None = data.get("command")
    return command.args.strip() if command is not None and command.args else ""
