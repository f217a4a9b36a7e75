"""The student's absences and lateness in a period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.access import StudentRef
from services.db import models as m
from services.journal.school import PeriodRef


@dataclass(frozen=True, slots=True)
class AttendanceItem:
    day: date
    slot: int
    subject: str
    kind: str
    reason: str
    is_valid: bool
    minutes_late: int | None


@dataclass(frozen=True, slots=True)
class AttendanceSummary:
    items: tuple[AttendanceItem, ...]  # newest first

    @property
    def absent(self) -> int:
        return sum(1 for i in self.items if i.kind == m.AttendanceKind.ABSENT)

    @property
    def absent_valid(self) -> int:
        return sum(1 for i in self.items if i.kind == m.AttendanceKind.ABSENT and i.is_valid)

    @property
    def late(self) -> int:
        return sum(1 for i in self.items if i.kind == m.AttendanceKind.LATE)

    @property
    def days_missed(self) -> int:
        return len({i.day for i in self.items if i.kind == m.AttendanceKind.ABSENT})

    def per_subject(self) -> list[tuple[str, int, int]]:
        """(subject, lessons missed, times late), most missed first."""
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for item in self.items:
            counts[item.subject][0 if item.kind == m.AttendanceKind.ABSENT else 1] += 1
        return sorted(
            ((s, a, late) for s, (a, late) in counts.items()), key=lambda x: (-x[1], -x[2], x[0])
        )


async def attendance(
    session: AsyncSession, student: StudentRef, period: PeriodRef
) -> AttendanceSummary:
    rows = await session.execute(
        select(
            m.Lesson.date,
            m.Lesson.slot,
            m.Subject.name,
            m.Attendance.kind,
            m.Attendance.reason,
            m.Attendance.is_valid,
            m.Attendance.minutes_late,
        )
        .join(m.Lesson, m.Lesson.id == m.Attendance.lesson_id)
        .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
        .where(
            m.Attendance.student_id == student.id,
            m.Lesson.date.between(period.starts_on, period.ends_on),
        )
        .order_by(m.Lesson.date.desc(), m.Lesson.slot.desc())
    )
    return AttendanceSummary(tuple(AttendanceItem(*row) for row in rows))
