"""Regulation profiles: the rules a school's own regulation sets, one profile per seed.

A school picks a profile (`schools.profile`) and may override single values
(`schools.overrides`). Each value cites the clause it comes from; values no seed states are
the common practice of Russian schools and say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Due:
    """When an entry is due, relative to its lesson: `days` after the lesson's day at 24:00
    in the school's time zone, `hours` after the lesson ends, or (`shift`) when the last lesson
    of the class's shift that day ends (seed 000 §5.5).

    Written as text in profiles and overrides: "day" (24:00 of the lesson's day), "day+6",
    "1.5h", "shift". Days are calendar days: no seed moves a deadline off a weekend or holiday.
    """

    days: int = 0
    hours: Decimal | None = None
    shift: bool = False

    @classmethod
    def parse(cls, value: str) -> Due:
        text = value.strip().lower()
        if match := re.fullmatch(r"(\d{1,3}(?:\.\d{1,2})?)h", text):
            hours = Decimal(match[1])
            if hours <= 0:
                raise ValueError(value)
            return cls(hours=hours)
        if text == "shift":
            return cls(shift=True)
        if match := re.fullmatch(r"day(?:\+(\d{1,2}))?", text):
            return cls(days=int(match[1] or 0))
        raise ValueError(value)

    def __str__(self) -> str:
        if self.hours is not None:
            return f"{self.hours.normalize():f}h"
        if self.shift:
            return "shift"
        return "day" if self.days == 0 else f"day+{self.days}"

    @property
    def intraday(self) -> bool:
        """Due within the lesson's day, well before the evening reminder."""
        return self.hours is not None or self.shift

    def at(
        self, day: date, ends_at: time, zone: ZoneInfo, *, shift_ends: time | None = None
    ) -> datetime:
        """The deadline of an entry for a lesson on `day` that ends at `ends_at`, the class's
        shift ending at `shift_ends` (`ends_at` when not given)."""
        if self.shift:
            return datetime.combine(day, shift_ends or ends_at, zone)
        if self.hours is not None:
            return datetime.combine(day, ends_at, zone) + timedelta(hours=float(self.hours))
        return datetime.combine(day + timedelta(days=self.days + 1), time(0), zone)


FIVE_POINT = frozenset({"1", "2", "3", "4", "5"})
SPECIAL_MARKS = frozenset({"н/а", "осв", "безотм", "зач", "незач"})
# The grades seed 004 §5.3 names: a term's, a year's and the final one; an exam's is not one.
ATTESTATIONS = frozenset({"quarter", "trimester", "half_year", "year", "final"})


@dataclass(frozen=True, slots=True)
class Profile:
    key: str
    title: str
    # The fraction of the weighted average from which the forecast rounds up: 0.5 makes
    # 3.50 a 4; some schools demand 0.6. No seed states it; 0.5 is the common rule.
    round_from: Decimal = Decimal("0.5")
    # Fewer numeric marks than this in a period: the forecast warns that the grade may be
    # "н/а" (not attested). No seed states a number; three is the common practice.
    min_marks: int = 3
    # Grade 1 gets no marks at all (seed 001 §4.3.6); every profile keeps it, as ФГОС does.
    marks_from_grade: int = 2
    # Special marks the journal may hold at all, lesson marks and final grades alike (SPEC
    # §2): seed 002 §2.8 allows "осв", "н/а", "безотм"; seed 000 §5.8 none ("кроме
    # установленных пятибалльной системой"); seed 004 §5.3 no "осв" anywhere. The default
    # keeps every one the journal program can write. `allows` is the rule.
    special_marks: frozenset[str] = SPECIAL_MARKS
    # Of those, the ones a period, year or final grade may be: seed 004 §5.3 forbids "н/а"
    # in "четвертных, полугодовых, годовых, итоговых отметок".
    final_specials: frozenset[str] = SPECIAL_MARKS
    # The periods the school's year is divided into.
    period_kind: str = "quarter"
    # From this grade on, classes are assessed by half-years instead (0: no grade is).
    # Seed 004 §5.1–5.2 names quarters and half-years side by side without saying which grades
    # take which; half-years for grades 10–11 is the common practice its profile follows.
    half_years_from_grade: int = 0

    # --- deadlines of the journal's entries (SPEC §4) ---------------------------------
    # None: the seed states no deadline, so nothing is reminded until the school sets one
    # (`journalbot school set`). Each profile's sources are in CLAUSES below.
    # Most seeds: topic, attendance and homework "в день проведения урока до 24.00"
    # (seed 000 §5.2, seed 004 §4.4.1); the default keeps that.
    topic_due: Due | None = Due()
    attendance_due: Due | None = Due()
    homework_due: Due | None = Due()
    # Marks of written work "в течение одной недели" (seed 000 §5.3, seed 002 §2.12), of
    # control work the same unless a profile says otherwise.
    written_due: Due | None = Due(days=7)
    control_due: Due | None = Due(days=7)
    # Control work of internal monitoring (`work_kinds.internal_monitoring`): seed 002 §2.11
    # gives it 3 days; elsewhere it is control work like any other.
    monitoring_due: Due | None = Due(days=7)
    # Essays (work kind "essay") in Russian and literature in grades 10–11 "до двух недель"
    # (seed 000 §5.3); other essays are written work.
    essay_senior_due: Due | None = Due(days=14)
    # Final grades of a period are due this many days after its last day (negative: before).
    finals_days: int | None = 0
    # Final-grade reminders start this many days before they are due.
    finals_warn_days: int = 5
    # Homework is not set in grade 1 (СанПиН 1.2.3685-21, table 6.6); no seed says otherwise.
    homework_from_grade: int = 2
    # When teachers hear of today's gaps (before a 24:00 deadline) and of what is overdue.
    evening_reminder: time = time(20, 0)
    morning_summary: time = time(7, 30)
    # Weekly summaries to class teachers and the deputy (seed 000 §6.3, seed 004 §3.3.1,
    # §7.1 "один раз в неделю"): weekday (0 = Monday) and time.
    weekly_report_day: int = 4
    weekly_report_time: time = time(16, 0)
    # Errors in the journal are corrected "не позднее семи дней" (seed 003 §8.6): the deputy's
    # weekly report flags a mark corrected more days than this after its lesson.
    correction_days: int = 7
    # The class teacher "ежедневно" checks attendance (seed 001 §4.2.3): a summary of the
    # class's day after its lessons, at this time. Seeds 000 and 004 make it weekly (§6.3,
    # §3.3.1), which the weekly summary does; elsewhere it is off.
    daily_attendance_summary: bool = False
    daily_attendance_time: time = time(16, 0)
    # "Необходимая накопляемость" of marks for a fair attestation (seed 003 §8.4, seed 004
    # §5.2): this many days before a period's last day the subject teacher and the class
    # teacher hear of students with fewer than `min_marks` numeric marks. None: not told.
    few_marks_alert_days: int | None = None

    def allows(
        self, value: str | None, *, grade: int | None, period_kind: str | None = None
    ) -> bool:
        """Whether the journal may hold `value` in a class of `grade`: as a lesson mark, or
        with `period_kind` as a final grade of that period. The one rule of allowed marks: the
        fan-out, the screens, the forecast, the reminders and the deputy's report ask it (SPEC
        §4; seed 000 §5.8, seed 001 §4.3.6, seed 004 §5.3). A removal (None) is always allowed.
        """
        if value is None:
            return True
        if grade is not None and grade < self.marks_from_grade:
            return False
        if value in FIVE_POINT:
            return True
        if period_kind in ATTESTATIONS:
            return value in self.special_marks and value in self.final_specials
        return value in self.special_marks

    def period_kind_for(self, grade: int | None) -> str:
        """The kind of period a class of this grade is assessed by (seed 004 §5.1–5.2: quarters
        and half-years; seed 001 §5.1–5.2: trimesters); `period_kind` without a grade."""
        if grade is not None and 0 < self.half_years_from_grade <= grade:
            return "half_year"
        return self.period_kind


PROFILES: dict[str, Profile] = {
    "default": Profile("default", "Default (quarters, half-up rounding, entries by 24:00)"),
    # seed 000: five-point marks only (§5.8); topic, attendance and marks by 24:00 of the
    # lesson's day (§5.2); homework the same day when the last lesson of the class's shift
    # ends (§5.5: the form leaves the hour blank, the timetable fills it); written work within
    # a week, essays in Russian and literature of grades 10–11 within two (§5.3); the
    # substitute fills in the journal (§5.2). No deadline for final grades: none reminded.
    "seed000": Profile(
        "seed000",
        "Seed 000",
        special_marks=frozenset(),  # §5.8: five-point marks only
        final_specials=frozenset(),
        homework_due=Due(shift=True),
        written_due=Due(days=7),
        control_due=Due(days=7),
        monitoring_due=Due(days=7),
        essay_senior_due=Due(days=14),
        finals_days=None,
    ),
    # seed 001: trimesters (§5, §5.2); grade 1 without marks (§4.3.6); the journal filled
    # "не реже одного раза в неделю" (§4.3 item 1), so a week for topic, attendance and
    # homework; marks within 14 days (§3 item 4); final grades "не позднее 2-х дней после
    # окончания учебного периода" (§5 item 3).
    "seed001": Profile(
        "seed001",
        "Seed 001",
        period_kind="trimester",
        topic_due=Due(days=6),
        attendance_due=Due(days=6),
        homework_due=Due(days=6),
        written_due=Due(days=14),
        control_due=Due(days=14),
        monitoring_due=Due(days=14),
        essay_senior_due=Due(days=14),
        finals_days=2,
        daily_attendance_summary=True,  # §4.2.3: attendance checked daily
    ),
    # seed 002: "осв", "н/а", "безотм" allowed (§2.8); attendance daily (§2.5, §2.9);
    # homework "в течение 1.5 часа после окончания занятий" (§2.7), where it is set; control
    # work of internal monitoring marked "в течение 3 дней" (§2.11), other written and control
    # work and essays within a week (§2.12); final grades in the period's last week, before
    # the holidays (§2.13).
    "seed002": Profile(
        "seed002",
        "Seed 002",
        homework_due=Due(hours=Decimal("1.5")),
        control_due=Due(days=7),
        monitoring_due=Due(days=3),
        written_due=Due(days=7),
        essay_senior_due=Due(days=7),
    ),
    # seed 004: no "осв" anywhere, no "н/а" among final grades (§5.3); topic, attendance, marks by
    # 24:00 of the lesson's day (§4.4.1), homework daily (§4.4.5); final grades "не позднее
    # 2-х дней до окончания учебного периода" (§5.4); the deputy's report weekly (§7.1);
    # quarters, and half-years for grades 10–11 (§5.1–5.2).
    "seed004": Profile(
        "seed004",
        "Seed 004",
        # §5.3: "Запись «осв.» в журнале не допускается"; no "н/а" as a term's, year's or
        # final grade.
        special_marks=SPECIAL_MARKS - {"осв"},
        final_specials=SPECIAL_MARKS - {"осв", "н/а"},
        finals_days=-2,
        half_years_from_grade=10,
        few_marks_alert_days=14,  # §5.2: enough marks for the quarter and half-year
        # §4.4.1 gives the lesson's own entries the day; no clause gives written or control
        # work's marks a time of their own, so they are reminded only once the school sets one.
        written_due=None,
        control_due=None,
        monitoring_due=None,
        essay_senior_due=None,
    ),
    # seed 003: marks of every kind of work "в сроки, установленные локальным нормативным
    # актом школы" (§8.5) and the rest of the journal "своевременно" (§8.1): it states no
    # deadline, so the school sets its local act's (`journalbot school set`); errors are put
    # right "не позднее семи дней" (§8.6).
    "seed003": Profile(
        "seed003",
        "Seed 003",
        topic_due=None,
        attendance_due=None,
        homework_due=None,
        written_due=None,
        control_due=None,
        monitoring_due=None,
        essay_senior_due=None,
        finals_days=None,
        correction_days=7,
        few_marks_alert_days=14,  # §8.4: enough marks for the period
    ),
}


def profile_for(key: str | None, overrides: dict[str, Any] | None = None) -> Profile:
    """The school's profile with its overrides applied; unknown keys fall back to default."""
    profile = PROFILES.get(key or "default", PROFILES["default"])
    if not overrides:
        return profile
    known = {f.name for f in fields(Profile)} - {"key", "title"}
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in known:
            continue
        try:
            converted = _override(name, value)
        except (InvalidOperation, TypeError, ValueError):
            continue  # a bad stored override is ignored, never fatal
        if name == "round_from" and not _fraction(converted):
            continue
        changes[name] = converted
    return replace(profile, **changes)


def _fraction(value: Decimal) -> bool:
    """A rounding threshold: strictly between 0 and 1 (no NaN, no infinity)."""
    return value.is_finite() and Decimal(0) < value < Decimal(1)


def _override(name: str, value: Any) -> Any:
    """An override of `name` in the type of its value; "none" (JSON null) leaves a rule that
    may go unstated without a deadline, as seed 000 leaves final grades."""
    if name in _UNSTATED and (value is None or str(value).strip().lower() in {"", "none"}):
        return None
    current = getattr(PROFILES["default"], name)
    # A count the default leaves unstated is still a count of days.
    return _convert(0 if name == "few_marks_alert_days" else current, value)


def _convert(current: Any, value: Any) -> Any:
    """An override in the type of the profile's value; ValueError if it does not fit."""
    if isinstance(current, bool):
        return _boolean(value)
    if isinstance(current, Due):
        return Due.parse(str(value))
    if isinstance(current, time):
        return time.fromisoformat(str(value))
    if isinstance(current, Decimal):
        return Decimal(str(value))
    if isinstance(current, int):
        return int(value)
    return _specials(value) if isinstance(current, frozenset) else str(value)


def _specials(value: Any) -> frozenset[str]:
    """Special marks written "н/а,зач" (or a JSON list; "" or "none": none at all)."""
    items = value if isinstance(value, list) else str(value).replace(" ", ",").split(",")
    marks = frozenset(str(item).strip().lower() for item in items) - {"", "none"}
    if not marks <= SPECIAL_MARKS:
        raise ValueError(value)
    return marks


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        if value.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if value.strip().lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(value)
    return bool(value)


# The rules a profile may leave unstated (None): no reminder until the school sets them.
_UNSTATED = frozenset(f.name for f in fields(Profile) if "None" in str(f.type))

_RANGES = {
    "weekly_report_day": (0, 6),
    "correction_days": (0, 60),
    "min_marks": (0, 50),
    "marks_from_grade": (1, 12),
    "half_years_from_grade": (0, 11),
    "homework_from_grade": (1, 12),
    "finals_days": (-30, 30),
    "finals_warn_days": (0, 60),
    "few_marks_alert_days": (0, 60),
}


def check_override(name: str, value: str) -> Any:
    """The override's value as `schools.overrides` keeps it; ValueError saying why not."""
    if name not in settable():
        raise ValueError(f"unknown setting {name!r}; known: {', '.join(settable())}")
    try:
        converted = _override(name, value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a valid value") from None
    low, high = _RANGES.get(name, (None, None))
    if (
        converted is not None
        and low is not None
        and high is not None
        and not (low <= converted <= high)
    ):
        raise ValueError(f"{name}: {value!r} is outside {low}..{high}")
    if name == "round_from" and not _fraction(converted):
        raise ValueError(f"{name}: {value!r} must lie between 0 and 1")
    if name == "period_kind" and converted not in {"quarter", "trimester", "half_year"}:
        raise ValueError(f"{name}: {value!r} is not quarter, trimester or half_year")
    return _text(converted)


def settable() -> list[str]:
    return [f.name for f in fields(Profile) if f.name not in {"key", "title"}]


def _text(value: Any) -> Any:
    """A profile value as JSON keeps it."""
    if value is None:
        return None
    if isinstance(value, bool | int):
        return value
    if isinstance(value, Decimal | Due):
        return str(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, frozenset):
        return ",".join(sorted(value))
    return str(value)


# Seed 000 §5.3: "сочинения по русскому языку и литературе в 10-11 классах до двух недель".
_ESSAY_SUBJECTS = frozenset({"русский язык", "литература", "русская литература"})


def senior_essay(code: str | None, subject: str, grade: int) -> bool:
    """An essay (work kind "essay") in Russian or literature in grades 10–11: the work
    `essay_senior_due` is for (seed 000 §5.3); any other essay is written work."""
    return code == "essay" and grade >= 10 and subject.strip().lower() in _ESSAY_SUBJECTS
