"""A pupil's report card of one period: per subject the counted marks, the weighted average,
the forecast while the period is open, the lessons missed and the period's grade.

One builder for the card a family asks for on the marks screen and the card each family gets
once the period's final grades are due (seed 004 §4.6.4, seed 003 §5.9, seed 002 §2.14).
Marks and finals under review (services/forbidden.py) are left off; a corrected grade keeps
the value it replaced (seed 003 §8.6). Rendering is the caller's: the texts are the reader's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services import journal
from services.access import StudentRef
from services.journal import MarkItem, PeriodRef, SchoolContext
from services.journal.classes import class_teacher_name


@dataclass(frozen=True, slots=True)
class CardRow:
    subject: str
    marks: tuple[MarkItem, ...]  # the counted ones, in the journal's order
    average: Decimal | None
    forecast: str | None  # while the period is open
    absences: int
    final: str | None
    final_was: str | None  # the grade a correction replaced
    final_under_review: bool


@dataclass(frozen=True, slots=True)
class ReportCard:
    student: StudentRef
    school: str
    class_teacher: str | None
    period: PeriodRef
    year: str  # 2026/27
    rows: tuple[CardRow, ...]
    made_on: date  # in the school's zone


async def build(
    session: AsyncSession, student: StudentRef, period: PeriodRef, context: SchoolContext
) -> ReportCard:
    """The card of a student the caller may see (services.access) for one of the periods of
    the student's school (`context`)."""
    subjects = await journal.period_subjects(session, student, period, context.profile)
    summary = await journal.attendance(session, student, period)
    absences = {subject: absent for subject, absent, _late in summary.per_subject()}
    finals = {row.subject: row for row in await journal.finals(session, student, context)}
    rows = []
    for subject in subjects:
        row = finals.get(subject.subject)
        grade = row.grades.get(period.id) if row is not None else None
        review = row is not None and period.id in row.under_review
        rows.append(
            CardRow(
                subject=subject.subject,
                marks=tuple(i for i in subject.marks if not i.under_review),
                average=subject.forecast.average,
                forecast=subject.forecast.grade if grade is None else None,
                absences=absences.get(subject.subject, 0),
                final=None if grade is None or review else grade[0],
                final_was=None if grade is None or review else grade[1],
                final_under_review=review,
            )
        )
    # Subjects with a period grade but no marks (a pass, an exemption) are on the card too.
    listed = {row.subject for row in rows}
    for name, final in finals.items():
        grade = final.grades.get(period.id)
        if name in listed or grade is None:
            continue
        review = period.id in final.under_review
        rows.append(
            CardRow(
                subject=name,
                marks=(),
                average=None,
                forecast=None,
                absences=absences.get(name, 0),
                final=None if review else grade[0],
                final_was=None if review else grade[1],
                final_under_review=review,
            )
        )
    rows.sort(key=lambda row: row.subject)
    # The academic year's own dates, else its "year" period's: 2026/27.
    starts = context.year_starts_on or (context.year.starts_on if context.year else None)
    ends = context.year_ends_on or (context.year.ends_on if context.year else None)
    label = (
        f"{starts.year}/{ends.year % 100:02d}"
        if starts is not None and ends is not None
        else str(period.starts_on.year)
    )
    return ReportCard(
        student=student,
        school=context.school_name,
        class_teacher=await class_teacher_name(session, student.class_id),
        period=period,
        year=label,
        rows=tuple(rows),
        made_on=context.today,
    )
