"""The school's calendar as a screen sees it: time zone, profile, periods and holidays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.access import NotFound
from services.db import models as m
from services.profiles import Profile, profile_for


@dataclass(frozen=True, slots=True)
class PeriodRef:
    id: int
    kind: str
    number: int
    starts_on: date
    ends_on: date

    def holds(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True, slots=True)
class SchoolContext:
    """The school's calendar as seen right now, in the school's time zone."""

    school_id: int
    school_name: str
    timezone: str
    now: datetime
    profile: Profile
    year_id: int | None
    # The periods the year is divided into for the class in view (quarters, trimesters,
    # half-years: `class_terms`), in order.
    terms: tuple[PeriodRef, ...]
    year: PeriodRef | None
    holidays: tuple[tuple[date, date], ...]
    days_per_week: int
    # The academic year's first and last days (None without a year): a date typed without a
    # year is one of this school year.
    year_starts_on: date | None = None
    year_ends_on: date | None = None

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def current(self) -> PeriodRef | None:
        """The term holding today; during holidays the term that just ended; else the first."""
        ended = None
        for term in self.terms:
            if term.holds(self.today):
                return term
            if term.ends_on < self.today:
                ended = term
        return ended or (self.terms[0] if self.terms else None)

    def period(self, period_id: int) -> PeriodRef:
        """One of this school's periods; NotFound for any other id (from a forged button)."""
        candidates = [*self.terms, self.year] if self.year else list(self.terms)
        for period in candidates:
            if period.id == period_id:
                return period
        raise NotFound(period_id)

    def is_school_day(self, day: date) -> bool:
        if day.weekday() >= self.days_per_week:
            return False
        return not any(first <= day <= last for first, last in self.holidays)

    def next_school_day(self, after: date) -> date:
        """The first school day after `after`, skipping weekends and holidays."""
        day = after + timedelta(days=1)
        for _ in range(400):
            if self.is_school_day(day):
                return day
            day += timedelta(days=1)
        return after + timedelta(days=1)

    def week_of(self, day: date) -> tuple[date, date]:
        """Monday to the last school weekday of the week; on a weekend, the coming week."""
        if day.weekday() >= self.days_per_week:
            day += timedelta(days=7 - day.weekday())
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=self.days_per_week - 1)


_TERM_KINDS = frozenset({m.PeriodKind.QUARTER, m.PeriodKind.TRIMESTER, m.PeriodKind.HALF_YEAR})


def class_terms(
    profile: Profile, grade: int | None, terms: Iterable[PeriodRef]
) -> tuple[PeriodRef, ...]:
    """The terms a class of `grade` follows, in order, among its year's `terms`: those of its
    grade's kind (`Profile.period_kind_for`: seed 004 §5.1–5.2 quarters and half-years, seed
    001 §5.1–5.2 trimesters). Where the year has none of that kind (a seed-001 school whose
    year is in quarters), the shortest kind it has, so that no class is left without periods.
    Screens, forecasts, digests, summaries and finals reminders all choose through here."""
    held = [t for t in terms if t.kind in _TERM_KINDS]
    wanted = profile.period_kind_for(grade)
    if not any(t.kind == wanted for t in held) and held:
        wanted = min(held, key=lambda t: t.ends_on - t.starts_on).kind
    return tuple(sorted((t for t in held if t.kind == wanted), key=lambda t: t.starts_on))


# One round trip for the whole calendar: it is read on every screen.
_CONTEXT = text(
    """
    SELECT s.name, s.timezone, s.profile, s.overrides, y.id AS year_id,
      y.starts_on AS year_starts_on, y.ends_on AS year_ends_on,
      (SELECT c.grade FROM classes c
        WHERE c.id = CAST(:class_id AS bigint) AND c.school_id = s.id) AS grade,
      (SELECT json_agg(json_build_array(p.id, p.kind, p.number, p.starts_on, p.ends_on)
                       ORDER BY p.starts_on, p.ends_on DESC)
         FROM periods p WHERE p.academic_year_id = y.id) AS periods,
      (SELECT json_agg(json_build_array(h.starts_on, h.ends_on))
         FROM holidays h WHERE h.academic_year_id = y.id) AS holidays
    FROM schools s
    LEFT JOIN LATERAL (
      SELECT a.id, a.starts_on, a.ends_on FROM academic_years a
      WHERE a.school_id = s.id AND a.starts_on <= (:now AT TIME ZONE s.timezone)::date
      ORDER BY a.starts_on DESC LIMIT 1
    ) y ON true
    WHERE s.id = :school_id
    """
).columns(periods=JSON, holidays=JSON)


async def school_context(
    session: AsyncSession, school_id: int, now: datetime, *, class_id: int | None = None
) -> SchoolContext:
    """The school's time zone, profile, current academic year, periods and holidays; the
    terms are those of the class `class_id` (of this school), else the profile's kind. The
    caller has checked the viewer's right to the class or its student (services/access)."""
    school = (
        await session.execute(_CONTEXT, {"now": now, "school_id": school_id, "class_id": class_id})
    ).one()
    local = now.astimezone(ZoneInfo(school.timezone))
    terms: list[PeriodRef] = []
    year: PeriodRef | None = None
    for pid, kind, number, starts, ends in school.periods or ():
        ref = PeriodRef(pid, kind, number, date.fromisoformat(starts), date.fromisoformat(ends))
        if kind == m.PeriodKind.YEAR:
            year = ref
        elif kind in _TERM_KINDS:
            terms.append(ref)
    overrides: dict[str, Any] = school.overrides or {}
    profile = profile_for(school.profile, overrides)
    holidays = tuple(
        (date.fromisoformat(first), date.fromisoformat(last))
        for first, last in school.holidays or ()
    )
    days = overrides.get("days_per_week", 5)
    return SchoolContext(
        school_id=school_id,
        school_name=school.name,
        timezone=school.timezone,
        now=local,
        profile=profile,
        year_id=school.year_id,
        terms=class_terms(profile, school.grade, terms),
        year=year,
        holidays=holidays,
        days_per_week=days if days in (5, 6) else 5,
        year_starts_on=school.year_starts_on,
        year_ends_on=school.year_ends_on,
    )
