"""An illness note confirmed by the class teacher in one press: absences with a valid reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services import access, audit
from services.access import NotFound, StudentRef
from services.contact.threads import queue_note, school_settings, thread_for
from services.db import models as m
from services.notifications.fanout import WAKE_SENDERS
from services.notifications.payloads import ContactNote


@dataclass(frozen=True, slots=True)
class Confirmation:
    student: StudentRef
    day: date
    lessons: int
    already: bool


async def day_lessons(session: AsyncSession, student: StudentRef, day: date) -> list[int]:
    """The lessons of the student's class on the day: their own subgroup's only."""
    lesson = m.Lesson
    return list(
        await session.scalars(
            select(lesson.id)
            .where(
                lesson.class_id == student.class_id,
                lesson.date == day,
                or_(
                    lesson.subgroup_id.is_(None),
                    exists().where(
                        m.SubgroupMember.subgroup_id == lesson.subgroup_id,
                        m.SubgroupMember.student_id == student.id,
                    ),
                ),
            )
            .order_by(lesson.slot)
        )
    )


async def confirm_illness(
    session: AsyncSession, *, account_id: int, message_id: int, now: datetime
) -> Confirmation:
    """The class teacher's one press under an illness note: an absence with a valid reason
    (illness) for each of the child's lessons of the note's day, written as the teacher (a
    lateness already entered is left as it is), the family told in the thread. Commits.

    Access: the note is addressed to the account (`thread_for`, teacher's side) and the
    account is the class teacher of the child's class now; NotFound otherwise."""
    row = (
        await session.execute(
            select(
                m.ContactMessage.thread_id,
                m.ContactMessage.absence_day,
                m.ContactMessage.confirmed_at,
            ).where(
                m.ContactMessage.id == message_id,
                m.ContactMessage.kind == m.ContactKind.ILLNESS.value,
            )
        )
    ).first()
    if row is None:
        raise NotFound(message_id)
    thread_id, day, confirmed_at = row
    assert day is not None  # an illness note has its day (ck_contact_messages_absence_day)
    thread = await thread_for(session, account_id=account_id, thread_id=thread_id)
    student = thread.student
    if (
        thread.as_family
        or student.class_id is None
        or not await access.is_class_teacher(session, account_id, student.class_id)
    ):
        raise NotFound(message_id)
    if confirmed_at is not None:
        return Confirmation(student, day, await ill_lessons(session, student.id, day), True)
    lessons = await day_lessons(session, student, day)
    if not lessons:
        return Confirmation(student, day, 0, False)
    statement = pg_insert(m.Attendance).values(
        [
            {
                "student_id": student.id,
                "lesson_id": lesson_id,
                "kind": m.AttendanceKind.ABSENT.value,
                "reason": m.AbsenceReason.ILLNESS.value,
                "is_valid": True,
                "author_id": thread.teacher.staff_id,
            }
            for lesson_id in lessons
        ]
    )
    written = list(
        await session.scalars(
            statement.on_conflict_do_update(
                index_elements=[m.Attendance.student_id, m.Attendance.lesson_id],
                set_={
                    "reason": statement.excluded.reason,
                    "is_valid": True,
                    "author_id": statement.excluded.author_id,
                    "updated_at": now,
                },
                where=m.Attendance.kind == m.AttendanceKind.ABSENT.value,
            ).returning(m.Attendance.id)
        )
    )
    # Captured like any write, but the family reported this absence and hears of it in the
    # thread, with its valid reason: not once more per lesson as an unexplained absence.
    await session.execute(
        update(m.JournalEvent)
        .where(
            m.JournalEvent.table_name == "attendance",
            m.JournalEvent.row_id.in_(written),
            m.JournalEvent.processed_at.is_(None),
        )
        .values(processed_at=now)
    )
    await session.execute(
        update(m.ContactMessage).where(m.ContactMessage.id == message_id).values(confirmed_at=now)
    )
    _, zone = await school_settings(session, student.school_id)
    await queue_note(
        session,
        thread,
        ContactNote(message_id=message_id, confirmed=True),
        to_staff=False,
        now=now,
        zone=zone,
    )
    audit.record(
        session,
        audit.Action.ABSENCE_CONFIRMED,
        account_id=account_id,
        student_id=student.id,
        staff_id=thread.teacher.staff_id,
        details={"thread": thread.id, "message": message_id, "lessons": len(written)},
        at=now,
    )
    await session.execute(WAKE_SENDERS)
    await session.commit()
    return Confirmation(student, day, len(written), False)


async def ill_lessons(session: AsyncSession, student_id: int, day: date) -> int:
    """The student's lessons of the day missed with a valid reason, illness."""
    count = await session.scalar(
        select(func.count())
        .select_from(m.Attendance)
        .join(m.Lesson, m.Lesson.id == m.Attendance.lesson_id)
        .where(
            m.Attendance.student_id == student_id,
            m.Lesson.date == day,
            m.Attendance.kind == m.AttendanceKind.ABSENT.value,
            m.Attendance.reason == m.AbsenceReason.ILLNESS.value,
            m.Attendance.is_valid,
        )
    )
    return int(count or 0)
