"""What to archive: the school, its academic year and classes, named on the command line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import extract, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.linking import check_school, only_school

_YEAR = re.compile(r"\s*(\d{4})\s*[/-]\s*(\d{2}|\d{4})\s*")
_CLASS = re.compile(r"\s*(\d{1,2})\s*-?\s*([А-ЯЁA-Z])\s*")


class ArchiveError(Exception):
    """Why an archive cannot be written or verified, in one line for the operator."""


@dataclass(frozen=True, slots=True)
class ClassRef:
    id: int
    grade: int
    letter: str

    @property
    def label(self) -> str:
        return f"{self.grade}{self.letter}"


@dataclass(frozen=True, slots=True)
class Target:
    """What to archive: a school's academic year and the classes of it."""

    school_id: int
    school: str
    timezone: str | None
    year_id: int
    year: str  # 2025/26
    starts_on: date
    ends_on: date
    classes: tuple[ClassRef, ...]


def parse_year(text: str) -> tuple[int, int]:
    """2025/26, 2025/2026 or 2025-26: the calendar years the academic year starts and ends in."""
    match = _YEAR.fullmatch(text)
    if match is None:
        raise ArchiveError(f"{text!r}: expected an academic year such as 2025/26")
    first, second = int(match[1]), int(match[2])
    if len(match[2]) == 2:
        second += first // 100 * 100 + (100 if second < first % 100 else 0)
    if second != first + 1:
        raise ArchiveError(f"{text!r}: an academic year spans two years in a row, e.g. 2025/26")
    return first, second


async def snapshot(session: AsyncSession) -> None:
    """Every later read of the session sees the journal as of one moment: call it first."""
    await session.connection(
        execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    )


async def find_target(
    session: AsyncSession, *, school_id: int | None, year: str, class_label: str | None
) -> Target:
    """The school (the only one when not given), its year and the class (every class of the
    year when not given); ArchiveError naming what is not there. For the administrator."""
    first, second = parse_year(year)
    try:
        await check_school(session, school_id)
        school = school_id if school_id is not None else await only_school(session)
    except ValueError as exc:
        raise ArchiveError(str(exc)) from None
    name, zone = (
        await session.execute(
            select(m.School.name, m.School.timezone).where(m.School.id == school)
        )
    ).one()
    label = f"{first}/{second % 100:02d}"
    found = (
        await session.execute(
            select(m.AcademicYear).where(
                m.AcademicYear.school_id == school,
                extract("year", m.AcademicYear.starts_on) == first,
                extract("year", m.AcademicYear.ends_on) == second,
            )
        )
    ).scalar_one_or_none()
    if found is None:
        years = (
            await session.scalars(
                select(m.AcademicYear.starts_on)
                .where(m.AcademicYear.school_id == school)
                .order_by(m.AcademicYear.starts_on)
            )
        ).all()
        known = ", ".join(f"{d.year}/{(d.year + 1) % 100:02d}" for d in years) or "none"
        raise ArchiveError(f"school {school} has no academic year {label} (it has: {known})")
    rows = (
        await session.execute(
            select(m.SchoolClass.id, m.SchoolClass.grade, m.SchoolClass.letter)
            .where(m.SchoolClass.academic_year_id == found.id)
            .order_by(m.SchoolClass.grade, m.SchoolClass.letter)
        )
    ).all()
    classes = tuple(ClassRef(*row) for row in rows)
    if class_label is not None:
        classes = _pick_class(classes, class_label, label)
    if not classes:
        raise ArchiveError(f"the academic year {label} of school {school} has no classes")
    return Target(school, name, zone, found.id, label, found.starts_on, found.ends_on, classes)


def _pick_class(classes: tuple[ClassRef, ...], text: str, year: str) -> tuple[ClassRef, ...]:
    match = _CLASS.fullmatch(text.upper())
    if match is None:
        raise ArchiveError(f"{text!r}: expected a class such as 7Б")
    grade, letter = int(match[1]), match[2]
    chosen = tuple(c for c in classes if c.grade == grade and c.letter == letter)
    if chosen:
        return chosen
    hint = " (class letters are Cyrillic)" if "A" <= letter <= "Z" else ""
    known = ", ".join(c.label for c in classes) or "none"
    raise ArchiveError(f"no class {grade}{letter} in {year}{hint}; classes: {known}")
