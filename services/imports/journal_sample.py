"""A synthetic journal file for a demo-like school: for benchmarks of the journal import.

The demo school was not imported, so its rows have no program ids; `name_roster` gives its
classes, pupils and staff ids as a roster import would, and `write_sample_journal` writes a
workbook of lessons, homework, marks and absences over them in the journal format.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.imports import journal_format as f
from services.ingest import external

Kind = m.ExternalKind
SUBJECTS = ("Математика", "Русский язык", "Литература", "История", "Биология", "Физика")
MARKS_PER_LESSON = 5
SLOTS = 6
VALUES = ("5", "5", "4", "4", "4", "3", "3", "2")


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Lesson n (from 0) runs 45 minutes from 08:00 + 55 n.
TIMES = tuple((_clock(480 + 55 * n), _clock(525 + 55 * n)) for n in range(SLOTS))


@dataclass(frozen=True)
class SampleRoster:
    """The program ids of a school's classes (with their pupils), staff and work kinds."""

    school_id: int
    classes: dict[str, tuple[str, ...]]
    staff: tuple[str, ...]
    work_kinds: tuple[str, ...]


async def name_roster(session: AsyncSession, school_id: int) -> SampleRoster:
    """Program ids (`class-<id>`, `student-<id>`, `staff-<id>`) for the school's rows, as a
    roster import would have remembered them. Does not commit."""
    classes = (
        await session.scalars(select(m.SchoolClass.id).where(m.SchoolClass.school_id == school_id))
    ).all()
    pupils = await session.execute(
        select(m.Student.id, m.Student.class_id).where(
            m.Student.school_id == school_id,
            m.Student.class_id.is_not(None),
            m.Student.left_at.is_(None),
        )
    )
    staff = (await session.scalars(select(m.Staff.id).where(m.Staff.school_id == school_id))).all()
    kinds = (
        await session.scalars(select(m.WorkKind.code).where(m.WorkKind.school_id == school_id))
    ).all()
    members: dict[str, list[str]] = {f"class-{c}": [] for c in classes}
    for student, klass in pupils:
        members[f"class-{klass}"].append(f"student-{student}")
    await external.remember(session, school_id, Kind.CLASS, {f"class-{c}": c for c in classes})
    await external.remember(
        session,
        school_id,
        Kind.STUDENT,
        {s: int(s.split("-")[1]) for v in members.values() for s in v},
    )
    await external.remember(session, school_id, Kind.STAFF, {f"staff-{s}": s for s in staff})
    return SampleRoster(
        school_id,
        {k: tuple(v) for k, v in members.items() if v},
        tuple(f"staff-{s}" for s in staff),
        tuple(kinds),
    )


def _school_days(first: date) -> list[date]:
    """Weekdays from `first` on, a year's worth."""
    days = (first + timedelta(days=n) for n in range(400))
    return [d for d in days if d.weekday() < 5]


def write_sample_journal(
    path: Path, roster: SampleRoster, *, marks: int, first_day: date, seed: int = 1
) -> Path:
    """An XLSX with `marks` marks, five per lesson, over the roster's classes from
    `first_day`; a homework for every lesson and an absence for every tenth."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    book = Workbook(write_only=True)
    kinds = (f.LESSONS, f.HOMEWORK, f.MARKS_SHEET, f.ATTENDANCE)
    sheets = {s.kind: book.create_sheet(s.name) for s in kinds}
    for sheet in kinds:
        sheets[sheet.kind].append(list(sheet.headers))
    classes = sorted(roster.classes)
    days = _school_days(first_day)
    written = n = 0
    while written < marks:
        klass = classes[n % len(classes)]
        slot = n // len(classes) % SLOTS
        day = days[n // (len(classes) * SLOTS) % len(days)]
        lesson, teacher = f"lesson-{n}", rng.choice(roster.staff)
        kind = rng.choice(roster.work_kinds) if roster.work_kinds else ""
        sheets["lessons"].append(
            [
                lesson,
                day.isoformat(),
                slot + 1,
                *TIMES[slot],
                klass,
                "",
                SUBJECTS[n % len(SUBJECTS)],
                teacher,
                "",
                f"Тема {n}",
                "",
                "",
            ]
        )
        due = day + timedelta(days=2)
        sheets["homework"].append([f"hw-{n}", lesson, due.isoformat(), f"Задание {n}", teacher])
        pupils = roster.classes[klass]
        for pupil in rng.sample(pupils, min(MARKS_PER_LESSON, len(pupils), marks - written)):
            sheets["marks"].append(
                [f"mark-{written}", pupil, lesson, rng.choice(VALUES), kind, "", "", "", teacher]
            )
            written += 1
        if n % 10 == 0:
            sheets["attendance"].append(
                [f"abs-{n}", rng.choice(pupils), lesson, "отсутствовал", "", "болезнь", "да", ""]
            )
        n += 1
    book.save(path)
    return path
