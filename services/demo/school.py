"""The demo school's frame: its zone, profile, academic year, periods, holidays, subjects,
kinds of work, and the bell schedule."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from services.demo import curriculum as cur
from services.demo.rows import Ids, Rows

ZONES = ["Europe/Moscow", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg"]
LESSON_START = time(8, 30)
SECOND_SHIFT_START = time(13, 0)
BREAKS = [10, 20, 20, 10, 10, 10, 10]  # minutes after lesson 1, 2, ...

Period = tuple[int, str, int, date, date]  # id, kind, number, first day, last day
Holiday = tuple[str, date, date]


def academic_year(today: date) -> tuple[date, date]:
    start_year = today.year if today.month >= 8 else today.year - 1
    return date(start_year, 9, 1), date(start_year + 1, 5, 31)


def _quarters(y: int) -> list[tuple[str, int, date, date]]:
    return [
        ("quarter", 1, date(y, 9, 1), date(y, 10, 24)),
        ("quarter", 2, date(y, 11, 3), date(y, 12, 28)),
        ("quarter", 3, date(y + 1, 1, 12), date(y + 1, 3, 20)),
        ("quarter", 4, date(y + 1, 3, 30), date(y + 1, 5, 26)),
    ]


def _trimesters(y: int) -> list[tuple[str, int, date, date]]:
    return [
        ("trimester", 1, date(y, 9, 1), date(y, 11, 30)),
        ("trimester", 2, date(y, 12, 1), date(y + 1, 2, 28)),
        ("trimester", 3, date(y + 1, 3, 1), date(y + 1, 5, 26)),
    ]


def _half_years(y: int) -> list[tuple[str, int, date, date]]:
    return [
        ("half_year", 1, date(y, 9, 1), date(y, 12, 28)),
        ("half_year", 2, date(y + 1, 1, 12), date(y + 1, 5, 26)),
    ]


def _holidays(y: int) -> list[Holiday]:
    return [
        ("Осенние каникулы", date(y, 10, 25), date(y, 11, 2)),
        ("День народного единства", date(y, 11, 4), date(y, 11, 4)),
        ("Зимние каникулы", date(y, 12, 29), date(y + 1, 1, 11)),
        ("День защитника Отечества", date(y + 1, 2, 23), date(y + 1, 2, 23)),
        ("Международный женский день", date(y + 1, 3, 9), date(y + 1, 3, 9)),
        ("Весенние каникулы", date(y + 1, 3, 21), date(y + 1, 3, 29)),
        ("Праздник Весны и Труда", date(y + 1, 5, 1), date(y + 1, 5, 1)),
        ("День Победы", date(y + 1, 5, 11), date(y + 1, 5, 11)),
    ]


def school_days(start: date, end: date, holidays: list[Holiday]) -> list[date]:
    off = set()
    for _, first, last in holidays:
        day = first
        while day <= last:
            off.add(day)
            day += timedelta(days=1)
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in off:
            days.append(day)
        day += timedelta(days=1)
    return days


def slot_times(shift: int) -> list[tuple[time, time]]:
    start = datetime.combine(date(2000, 1, 1), LESSON_START if shift == 1 else SECOND_SHIFT_START)
    slots = []
    for brk in BREAKS:
        end = start + timedelta(minutes=45)
        slots.append((start.time(), end.time()))
        start = end + timedelta(minutes=brk)
    return slots


@dataclass
class School:
    """One school's frame, the generator's state and the rows gathered so far."""

    index: int
    rng: random.Random
    ids: Ids
    today: date
    rows: Rows = field(default_factory=Rows)
    school_id: int = 0
    zone: str = ZONES[0]
    profile: str = "default"
    year_id: int = 0
    year_start: date = date.min
    year_end: date = date.min
    periods: list[Period] = field(default_factory=list)
    holidays: list[Holiday] = field(default_factory=list)
    subjects: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, tuple[int, Decimal]] = field(default_factory=dict)


def build_school(*, index: int, rng: random.Random, ids: Ids, today: date) -> School:
    """The school's row, its year with periods and holidays, subjects and kinds of work."""
    school = School(index=index, rng=rng, ids=ids, today=today)
    _build_structure(school)
    return school


def _build_structure(school: School) -> None:
    rng = school.rng
    school.school_id = school.ids.take("schools")
    school.zone = ZONES[0] if school.index == 0 else rng.choice(ZONES)
    school.profile = (
        "default"
        if school.index == 0
        else rng.choice(["default", "seed000", "seed001", "seed002", "seed004"])
    )
    number = school.index + 1 if school.index else 1
    school.rows.add(
        "schools",
        (
            school.school_id,
            f"МБОУ «Средняя общеобразовательная школа № {number}»",
            school.zone,
            school.profile,
            # Marks the school as the demo's: `journalbot demo` and `shell` act only on
            # such schools, never on a real journal (services/demo/sandbox.py).
            json.dumps({"demo": True}),
        ),
    )
    first, last = academic_year(school.today)
    school.year_id = school.ids.take("academic_years")
    school.rows.add(
        "academic_years",
        (
            school.year_id,
            school.school_id,
            f"{first.year}/{first.year + 1}",
            first,
            last,
        ),
    )
    terms = _trimesters(first.year) if school.profile == "seed001" else _quarters(first.year)
    if school.profile == "seed004":
        # Quarters, and half-years for the senior grades (seed 004 §5.1–5.2).
        terms += _half_years(first.year)
    for kind, number_, starts, ends in [*terms, ("year", 1, first, last)]:
        period_id = school.ids.take("periods")
        school.periods.append((period_id, kind, number_, starts, ends))
        school.rows.add("periods", (period_id, school.year_id, kind, number_, starts, ends))
    school.holidays = _holidays(first.year)
    for name, starts, ends in school.holidays:
        school.rows.add(
            "holidays", (school.ids.take("holidays"), school.year_id, name, starts, ends)
        )
    for name, _ in cur.CURRICULUM:
        subject_id = school.ids.take("subjects")
        school.subjects[name] = subject_id
        school.rows.add("subjects", (subject_id, school.school_id, name, None))
    for code, name, weight, written, control in cur.WORK_KINDS:
        kind_id = school.ids.take("work_kinds")
        school.kinds[code] = (kind_id, weight)
        school.rows.add(
            "work_kinds", (kind_id, school.school_id, code, name, weight, written, control)
        )
    school.year_start, school.year_end = first, last
