"""A student's earlier school years, read only: "access to marks for the whole time the journal
has been kept" (seed 000 §2.2, seed 001 §2.2), kept for five years (seed 002 §3.4).

Earlier years are those of the student's school that ended before today and hold a mark or a
final grade of the student. The class the student was in that year is the one most of their
marks were given in; its grade chooses the year's terms (`class_terms`), as it did then.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.access import NotFound, StudentRef, class_label
from services.journal.grades import FinalRow, SubjectMarks, finals, period_subjects
from services.journal.school import PeriodRef, SchoolContext, school_context


@dataclass(frozen=True, slots=True)
class PastYear:
    id: int
    starts_on: date
    ends_on: date
    class_id: int | None
    class_label: str

    @property
    def label(self) -> str:
        """2025/26"""
        return f"{self.starts_on.year}/{self.ends_on.year % 100:02d}"


@dataclass(frozen=True, slots=True)
class YearRecord:
    year: PastYear
    # The year's calendar as it was on its last day: its terms and the year's period.
    context: SchoolContext
    subjects: tuple[SubjectMarks, ...]
    finals: tuple[FinalRow, ...]


_YEARS = text(
    """
    SELECT y.id, y.starts_on, y.ends_on, c.id AS class_id, c.grade, c.letter
    FROM academic_years y
    LEFT JOIN LATERAL (
      SELECT k.id, k.grade, k.letter FROM marks mk
      JOIN lessons l ON l.id = mk.lesson_id
      JOIN classes k ON k.id = l.class_id
      WHERE mk.student_id = :student AND k.academic_year_id = y.id
      GROUP BY k.id, k.grade, k.letter ORDER BY count(*) DESC, k.id LIMIT 1
    ) c ON true
    WHERE y.school_id = :school AND y.ends_on < :today
      AND (c.id IS NOT NULL OR EXISTS (
        SELECT 1 FROM final_grades f JOIN periods p ON p.id = f.period_id
        WHERE f.student_id = :student AND p.academic_year_id = y.id))
    ORDER BY y.starts_on DESC
    """
)


async def past_years(session: AsyncSession, student: StudentRef, today: date) -> list[PastYear]:
    """The student's earlier years at this school, the latest first. The caller has checked
    the viewer's right to the student (services.access)."""
    rows = await session.execute(
        _YEARS, {"student": student.id, "school": student.school_id, "today": today}
    )
    return [
        PastYear(
            row.id,
            row.starts_on,
            row.ends_on,
            row.class_id,
            class_label(row.grade, row.letter) if row.class_id is not None else "",
        )
        for row in rows
    ]


async def past_year(
    session: AsyncSession, student: StudentRef, year_id: int, today: date, zone: str
) -> YearRecord:
    """One earlier year of the student: per subject the marks and their average, and the
    final grades of its terms and of the year. NotFound for any other year id."""
    years = {year.id: year for year in await past_years(session, student, today)}
    year = years.get(year_id)
    if year is None:
        raise NotFound(year_id)
    # The calendar as on the year's last day, at noon in the school's zone.
    moment = datetime.combine(year.ends_on, time(12), ZoneInfo(zone)).astimezone(UTC)
    context = await school_context(session, student.school_id, moment, class_id=year.class_id)
    whole = PeriodRef(
        context.year.id if context.year else 0, "year", 1, year.starts_on, year.ends_on
    )
    # Then-class: its subjects (a pupil's lessons of that year), not today's class.
    then = dataclasses.replace(student, class_id=year.class_id, class_label=year.class_label)
    subjects = await period_subjects(session, then, whole, context.profile)
    grades = await finals(session, then, context)
    return YearRecord(year, context, tuple(s for s in subjects if s.marks), tuple(grades))
