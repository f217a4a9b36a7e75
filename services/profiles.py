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
    in the school's time zone, or `hours` after the lesson ends.

    Written as text in profiles and overrides: "day" (24:00 of the lesson's day), "day+6",
    "1.5h". Days are calendar days: no seed moves a deadline off a weekend or holiday.
    """

    days: int = 0
    hours: Decimal | None = None

    @classmethod
    def parse(cls, value: str) -> Due:
        text = value.strip().lower()
        if match := re.fullmatch(r"(\d{1,3}(?:\.\d{1,2})?)h", text):
            hours = Decimal(match[1])
            if hours <= 0:
                raise ValueError(value)
            return cls(hours=hours)
        if match := re.fullmatch(r"day(?:\+(\d{1,2}))?", text):
            return cls(days=int(match[1] or 0))
        raise ValueError(value)

    def __str__(self) -> str:
        if self.hours is not None:
            return f"{self.hours.normalize():f}h"
        return "day" if self.days == 0 else f"day+{self.days}"

    def at(self, day: date, ends_at: time, zone: ZoneInfo) -> datetime:
        """The deadline of an entry for a lesson on `day` that ends at `ends_at`."""
        if self.hours is not None:
            return datetime.combine(day, ends_at, zone) + timedelta(hours=float(self.hours))
        return datetime.combine(day + timedelta(days=self.days + 1), time(0), zone)


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
    # Special marks allowed as final grades; seed 004 §5.3 forbids "н/а" and "осв".
    special_finals: bool = True
    # The periods the school's year is divided into.
    period_kind: str = "quarter"

    # --- deadlines of the journal's entries (SPEC §4) ---------------------------------
    # Most seeds: topic, attendance and homework "в день проведения урока до 24.00"
    # (seed 000 §5.2, seed 004 §4.4.1); the default keeps that.
    topic_due: Due = Due()
    attendance_due: Due = Due()
    homework_due: Due = Due()
    # Marks of written work "в течение одной недели" (seed 000 §5.3, seed 002 §2.12), of
    # control work the same unless a profile says otherwise.
    written_due: Due = Due(days=7)
    control_due: Due = Due(days=7)
    # Essays in Russian and literature in grades 10–11 "до двух недель" (seed 000 §5.3).
    essay_senior_due: Due = Due(days=14)
    # Final grades of a period are due this many days after its last day (negative: before).
    finals_days: int = 0
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


PROFILES: dict[str, Profile] = {
    "default": Profile("default", "Default (quarters, half-up rounding, entries by 24:00)"),
    # seed 000: five-point marks only (§5.8); topic, attendance and marks by 24:00 of the
    # lesson's day (§5.2); homework the same day after the shift, whose hour the form leaves
    # blank (§5.5), so 24:00; written work within a week, essays of grades 10–11 within two
    # (§5.3); the substitute fills in the journal (§5.2). No deadline for final grades.
    "seed000": Profile(
        "seed000",
        "Seed 000",
        special_finals=False,
        written_due=Due(days=7),
        control_due=Due(days=7),
        essay_senior_due=Due(days=14),
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
        essay_senior_due=Due(days=14),
        finals_days=2,
    ),
    # seed 002: "осв", "н/а", "безотм" allowed (§2.8); attendance daily (§2.5, §2.9);
    # homework "в течение 1.5 часа после окончания занятий" (§2.7); control work marked
    # "в течение 3 дней" (§2.11), written work and essays within a week (§2.12); final
    # grades in the period's last week, before the holidays (§2.13).
    "seed002": Profile(
        "seed002",
        "Seed 002",
        homework_due=Due(hours=Decimal("1.5")),
        control_due=Due(days=3),
        written_due=Due(days=7),
        essay_senior_due=Due(days=7),
    ),
    # seed 004: no "н/а" or "осв" among final grades (§5.3); topic, attendance, marks by
    # 24:00 of the lesson's day (§4.4.1), homework daily (§4.4.5); final grades "не позднее
    # 2-х дней до окончания учебного периода" (§5.4); the deputy's report weekly (§7.1).
    "seed004": Profile("seed004", "Seed 004", special_finals=False, finals_days=-2),
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
            converted = _convert(getattr(profile, name), value)
        except (InvalidOperation, TypeError, ValueError):
            continue  # a bad stored override is ignored, never fatal
        if name == "round_from" and not _fraction(converted):
            continue
        changes[name] = converted
    return replace(profile, **changes)


def _fraction(value: Decimal) -> bool:
    """A rounding threshold: strictly between 0 and 1 (no NaN, no infinity)."""
    return value.is_finite() and Decimal(0) < value < Decimal(1)


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
    return str(value)


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        if value.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if value.strip().lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(value)
    return bool(value)


_RANGES = {
    "weekly_report_day": (0, 6),
    "min_marks": (0, 50),
    "marks_from_grade": (1, 12),
    "homework_from_grade": (1, 12),
    "finals_days": (-30, 30),
    "finals_warn_days": (0, 60),
}


def check_override(name: str, value: str) -> Any:
    """The override's value as `schools.overrides` keeps it; ValueError saying why not."""
    if name not in settable():
        raise ValueError(f"unknown setting {name!r}; known: {', '.join(settable())}")
    try:
        converted = _convert(getattr(PROFILES["default"], name), value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a valid value") from None
    low, high = _RANGES.get(name, (None, None))
    if low is not None and high is not None and not low <= converted <= high:
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
    if isinstance(value, bool | int):
        return value
    if isinstance(value, Decimal | Due):
        return str(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)
