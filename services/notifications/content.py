"""A queued message's content, read from the journal when it is sent.

Access is checked again here, per child, as links stand at sending time: a link revoked after
the event means the child's part is dropped (SPEC §3, seed 002 §4.3–4.4).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services import access, contact, journal
from services.db import models as m
from services.db.current import current_final_grades
from services.forecast import Forecast
from services.journal import MarkItem, PeriodRef
from services.notifications.payloads import (
    AttendanceChange,
    ClassDay,
    ClassPeriodSheet,
    ClassWeek,
    ContactNote,
    Digest,
    FamilyItem,
    FewMarks,
    FinalGrades,
    LeaverReport,
    MarkChange,
    NewHomework,
    PeriodReportCard,
    Reminder,
    StaffPayload,
    Weekly,
)
from services.notifications.queue import Outgoing
from services.profiles import profile_for
from services.report_card import ReportCard, build


@dataclass(frozen=True, slots=True)
class MarkNotice:
    action: str  # new, corrected, removed
    value: str | None
    was: str | None
    subject: str
    day: date
    kind_code: str | None
    kind_name: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class AttendanceNotice:
    action: str
    kind: str
    subject: str
    day: date
    slot: int
    minutes_late: int | None


@dataclass(frozen=True, slots=True)
class FinalNotice:
    subject: str
    value: str
    was: str | None
    period: PeriodRef


@dataclass(frozen=True, slots=True)
class HomeworkNotice:
    subject: str
    due: date
    text: str


@dataclass(frozen=True, slots=True)
class WeeklyChild:
    name: str
    marks: list[MarkItem]
    absent: int
    absent_invalid: int
    late: int
    period: PeriodRef | None
    forecasts: list[tuple[str, Forecast]]
    sex: str | None = None


@dataclass
class MessageContent:
    """Everything one message says, grouped by the child's name."""

    language: str | None
    low_mark_threshold: int
    is_digest: bool
    marks: dict[str, list[MarkNotice]] = field(default_factory=lambda: defaultdict(list))
    attendance: dict[str, list[AttendanceNotice]] = field(
        default_factory=lambda: defaultdict(list)
    )
    finals: dict[str, list[FinalNotice]] = field(default_factory=lambda: defaultdict(list))
    homework: dict[str, list[HomeworkNotice]] = field(default_factory=lambda: defaultdict(list))
    week: tuple[date, date] | None = None
    weekly: list[WeeklyChild] = field(default_factory=list)
    # A message to staff (reminder, weekly summaries): its payload as queued.
    staff: StaffPayload | None = None
    # A message of a family's thread with a teacher (services/contact.py).
    contact: contact.ContactNotice | None = None
    # A family's report card at a period's end, built now; a pupil who left: the year's
    # report up to the day they left.
    report_card: ReportCard | None = None
    left_on: date | None = None
    # Each child's sex ("m", "f", None), by name: the words that agree with the pupil.
    sexes: dict[str, str | None] = field(default_factory=dict)

    @property
    def has_content(self) -> bool:
        return (
            bool(self.weekly)
            or bool(self.staff)
            or self.contact is not None
            or self.report_card is not None
            or any(
                any(v for v in group.values())
                for group in (self.marks, self.attendance, self.finals, self.homework)
            )
        )


_mark_previous = aliased(m.Mark, name="previous")
_MARKS = (
    select(
        m.Mark.id,
        m.Mark.value,
        _mark_previous.value,
        m.Subject.name,
        m.Lesson.date,
        m.WorkKind.code,
        m.WorkKind.name,
        m.Mark.reason,
    )
    .join(m.Lesson, m.Lesson.id == m.Mark.lesson_id)
    .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
    .outerjoin(m.WorkKind, m.WorkKind.id == m.Mark.work_kind_id)
    .outerjoin(_mark_previous, _mark_previous.id == m.Mark.replaces_id)
    .where(m.Mark.id.in_(bindparam("ids", expanding=True)))
)

_final_previous = aliased(m.FinalGrade, name="previous")
_final = current_final_grades.c
# Several revisions in one message: only the current one of each grade is told.
_FINALS = (
    select(
        _final.id,
        _final.value,
        _final_previous.value,
        m.Subject.name,
        m.Period.id,
        m.Period.kind,
        m.Period.number,
        m.Period.starts_on,
        m.Period.ends_on,
        m.School.profile,
        m.School.overrides,
        m.SchoolClass.grade,
    )
    .select_from(current_final_grades)
    .join(m.Subject, m.Subject.id == _final.subject_id)
    .join(m.Period, m.Period.id == _final.period_id)
    .join(m.Student, m.Student.id == _final.student_id)
    .join(m.School, m.School.id == m.Student.school_id)
    .outerjoin(m.SchoolClass, m.SchoolClass.id == m.Student.class_id)
    .outerjoin(_final_previous, _final_previous.id == _final.replaces_id)
    .where(_final.id.in_(bindparam("ids", expanding=True)))
)

_LESSONS = (
    select(m.Lesson.id, m.Lesson.date, m.Lesson.slot, m.Subject.name)
    .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
    .where(m.Lesson.id.in_(bindparam("ids", expanding=True)))
)


def _items(message: Outgoing) -> list[tuple[int, FamilyItem]]:
    """The family items of a message, each with its child."""
    payload = message.payload
    if isinstance(payload, Digest):
        return [(item.student_id or 0, item) for item in payload.items]
    if isinstance(payload, MarkChange | AttendanceChange | FinalGrades | NewHomework):
        return [(message.student_id or 0, payload)]
    return []


async def _staff_allowed(session: AsyncSession, account_id: int, payload: StaffPayload) -> bool:
    """Messages to staff carry their facts in the payload (services/reminders.py, reports.py):
    whom they were meant for is checked again, as links and roles stand now."""
    if isinstance(payload, Reminder):
        return await access.speaks_for_staff(session, account_id, payload.staff_id)
    if isinstance(payload, FewMarks) and payload.staff_id is not None:
        return await access.speaks_for_staff(session, account_id, payload.staff_id)
    if isinstance(payload, ClassWeek | ClassPeriodSheet | ClassDay | FewMarks):
        return await access.is_class_teacher(session, account_id, payload.class_id)
    return await access.is_deputy(session, account_id, payload.school_id)


_Item = TypeVar("_Item")

# One part of one message: whose message, about which child (by name) and what.
_Part = tuple[MessageContent, str, _Item]


def _of(parts: list[_Part[FamilyItem]], kind: type[_Item]) -> list[_Part[_Item]]:
    return [(content, name, item) for content, name, item in parts if isinstance(item, kind)]


async def load_notices(session: AsyncSession, message: Outgoing) -> MessageContent | None:
    """The content of one queued notification; None if the account is gone."""
    return (await load_batch(session, [message]))[message.id]


async def load_batch(
    session: AsyncSession, messages: list[Outgoing]
) -> dict[int, MessageContent | None]:
    """The content of a claimed batch of notifications, by notification id, in a fixed
    number of queries whatever the batch size; None for an account that is gone."""
    accounts = {
        row[0]: row
        for row in await session.execute(
            select(
                m.Account.id,
                m.Account.language,
                m.Account.low_mark_threshold,
            ).where(
                m.Account.id.in_({message.account_id for message in messages}),
                m.Account.is_active,
            )
        )
    }
    result: dict[int, MessageContent | None] = {}
    parts: list[tuple[MessageContent, int, int, FamilyItem]] = []
    for message in messages:
        account = accounts.get(message.account_id)
        if account is None:
            result[message.id] = None
            continue
        recipient = MessageContent(
            language=account[1],
            low_mark_threshold=account[2],
            is_digest=isinstance(message.payload, Digest),
        )
        result[message.id] = recipient
        if isinstance(message.payload, Weekly):
            await _weekly(session, recipient, message.account_id, message.payload)
            continue
        if isinstance(message.payload, PeriodReportCard):
            recipient.report_card = await _report_card(session, message, message.payload)
            continue
        if isinstance(message.payload, LeaverReport):
            recipient.report_card = await _leaver_report(session, message)
            recipient.left_on = message.payload.left_on
            continue
        if isinstance(message.payload, ContactNote):
            # Both sides' access as it stands now (services/contact.py).
            recipient.contact = await contact.note_for(
                session, message.account_id, message.payload
            )
            continue
        if isinstance(message.payload, StaffPayload):
            # Access as it stands now: a revoked link or a role passed on drops the message.
            if await _staff_allowed(session, message.account_id, message.payload):
                recipient.staff = message.payload
            continue
        parts.extend(
            (recipient, message.account_id, student, item) for student, item in _items(message)
        )
    # Access as it stands now, for every (account, child) of the batch at once.
    names = await access.family_names(session, {(account, s) for _, account, s, _ in parts})
    sexes = await _sexes(session, {s for (_, s) in names})
    visible: list[_Part[FamilyItem]] = []
    for recipient, account_id, student, item in parts:
        name = names.get((account_id, student))
        if name is not None:
            visible.append((recipient, name, item))
            recipient.sexes[name] = sexes.get(student)
    await _marks(session, _of(visible, MarkChange))
    await _attendance(session, _of(visible, AttendanceChange))
    await _finals(session, _of(visible, FinalGrades))
    await _homework(session, _of(visible, NewHomework))
    return result


async def _sexes(session: AsyncSession, students: set[int]) -> dict[int, str | None]:
    """The sex of each of these pupils (students.sex: "m", "f" or unknown)."""
    if not students:
        return {}
    rows = await session.execute(
        select(m.Student.id, m.Student.sex).where(m.Student.id.in_(students))
    )
    return {student: sex for student, sex in rows}


async def _report_card(
    session: AsyncSession, message: Outgoing, payload: PeriodReportCard
) -> ReportCard | None:
    """The card, if the account is still the pupil's family (a class teacher's view is not a
    family's) and the period is still the school's."""
    try:
        student = await access.student_for(session, message.account_id, message.student_id or 0)
    except access.NotFound:
        return None
    if student.relation == access.Relation.CLASS_TEACHER:
        return None
    # The calendar of the period's year, as on its last day: the card is the same whenever
    # it is sent, and a period of another school is not found.
    ends_on = await session.scalar(
        select(m.Period.ends_on)
        .join(m.AcademicYear, m.AcademicYear.id == m.Period.academic_year_id)
        .where(m.Period.id == payload.period_id, m.AcademicYear.school_id == student.school_id)
    )
    if ends_on is None:
        return None
    context = await journal.school_context(
        session,
        student.school_id,
        datetime.combine(ends_on, time(12), UTC),
        class_id=student.class_id,
    )
    try:
        period = context.period(payload.period_id)
    except access.NotFound:
        return None
    return await build(session, student, period, context)


async def _leaver_report(session: AsyncSession, message: Outgoing) -> ReportCard | None:
    """The year's report of a pupil who left, up to the day they left, if the account is
    still of the pupil's family as they left it (services.access.leaver_families)."""
    families = access.leaver_families([message.student_id or 0]).subquery()
    student = m.Student
    row = (
        await session.execute(
            select(
                student.id,
                student.school_id,
                student.class_id,
                m.SchoolClass.grade,
                m.SchoolClass.letter,
                student.first_name,
                student.last_name,
                student.left_at,
                student.sex,
            )
            .join(families, families.c.student_id == student.id)
            .outerjoin(m.SchoolClass, m.SchoolClass.id == student.class_id)
            .where(families.c.account_id == message.account_id)
            .limit(1)
        )
    ).first()
    if row is None or row.left_at is None:
        return None
    pupil = access.StudentRef(
        row.id,
        row.school_id,
        row.class_id,
        access.class_label(row.grade, row.letter),
        row.first_name,
        row.last_name,
        access.Relation.GUARDIAN,
        row.sex,
    )
    # The calendar of the year the pupil left in, as it stood on their last day.
    context = await journal.school_context(
        session,
        pupil.school_id,
        datetime.combine(row.left_at, time(12), UTC),
        class_id=pupil.class_id,
    )
    if context.year is None:
        return None
    year = context.year
    period = PeriodRef(year.id, year.kind, year.number, year.starts_on, row.left_at)
    return await build(session, pupil, period, context)


async def _marks(session: AsyncSession, parts: list[_Part[MarkChange]]) -> None:
    if not parts:
        return
    rows = {
        row[0]: row
        for row in await session.execute(_MARKS, {"ids": [i.mark_id for _, _, i in parts]})
    }
    for recipient, name, item in parts:
        row = rows.get(item.mark_id)
        if row is None:
            continue
        _, value, previous, subject, day, code, kind_name, reason = row
        recipient.marks[name].append(
            MarkNotice(
                action=item.action,
                value=value,
                # The value the family saw, kept from the first message's event.
                was=item.was or previous,
                subject=subject,
                day=day,
                kind_code=code,
                kind_name=kind_name,
                reason=reason,
            )
        )


async def _attendance(session: AsyncSession, parts: list[_Part[AttendanceChange]]) -> None:
    if not parts:
        return
    ids = [i.attendance_id for _, _, i in parts]
    current = {
        row[0]: row
        for row in await session.execute(
            select(m.Attendance.id, m.Attendance.kind, m.Attendance.minutes_late).where(
                m.Attendance.id.in_(ids)
            )
        )
    }
    lessons = {
        row[0]: row
        for row in await session.execute(
            _LESSONS, {"ids": [i.lesson_id for _, _, i in parts if i.lesson_id]}
        )
    }
    for recipient, name, item in parts:
        lesson = lessons.get(item.lesson_id or 0)
        if lesson is None:
            continue
        row = current.get(item.attendance_id)
        action = item.action
        if row is None and action != "removed":
            continue  # removed before it was sent: nothing to say
        recipient.attendance[name].append(
            AttendanceNotice(
                action=action,
                kind=row[1] if row is not None else (item.was_kind or "absent"),
                subject=lesson[3],
                day=lesson[1],
                slot=lesson[2],
                minutes_late=row[2] if row is not None else None,
            )
        )


async def _finals(session: AsyncSession, parts: list[_Part[FinalGrades]]) -> None:
    ids = [g for _, _, i in parts for g in i.grades]
    if not ids:
        return
    rows = {row[0]: row for row in await session.execute(_FINALS, {"ids": ids})}
    for recipient, name, item in parts:
        for grade_id in item.grades:
            row = rows.get(grade_id)
            if row is None:
                continue
            _, value, previous, subject, pid, kind, number, starts, ends = row[:9]
            key, overrides, grade = row[9:]
            # A grade that replaced one against the school's rules (services/forbidden.py),
            # which the family never heard of, is told as a grade, not as a correction.
            if previous is not None and not profile_for(key, overrides).allows(
                previous, grade=grade, period_kind=kind
            ):
                previous = None
            recipient.finals[name].append(
                FinalNotice(
                    subject, str(value), previous, PeriodRef(pid, kind, number, starts, ends)
                )
            )


async def _homework(session: AsyncSession, parts: list[_Part[NewHomework]]) -> None:
    if not parts:
        return
    rows = {
        row[0]: row
        for row in await session.execute(
            select(m.Homework.id, m.Homework.due_date, m.Homework.text, m.Subject.name)
            .join(m.Lesson, m.Lesson.id == m.Homework.lesson_id)
            .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
            .where(m.Homework.id.in_([i.homework_id for _, _, i in parts]))
        )
    }
    for recipient, name, item in parts:
        row = rows.get(item.homework_id)
        if row is not None:
            recipient.homework[name].append(HomeworkNotice(row[3], row[1], row[2]))


async def _weekly(
    session: AsyncSession, result: MessageContent, account_id: int, payload: Weekly
) -> None:
    """The week of every child the account sees now, with the period's forecasts."""
    start = payload.week_start
    end = start + timedelta(days=6)
    result.week = (start, end)
    off = {
        student
        for (student,) in await session.execute(
            select(m.NotificationPreference.student_id).where(
                m.NotificationPreference.account_id == account_id,
                m.NotificationPreference.category == "weekly",
                m.NotificationPreference.mode == "off",
                m.NotificationPreference.student_id.is_not(None),
            )
        )
    }
    now = datetime.now(UTC)
    for child in await access.family_students(session, account_id):
        if child.id in off:
            continue
        context = await journal.school_context(
            session, child.school_id, now, class_id=child.class_id
        )
        week = PeriodRef(0, "week", 0, start, end)
        absences = await journal.attendance(session, child, week)
        period = context.current
        forecasts = []
        if period is not None:
            for subject in await journal.period_subjects(session, child, period, context.profile):
                if subject.forecast.grade is not None:
                    forecasts.append((subject.subject, subject.forecast))
        result.weekly.append(
            WeeklyChild(
                name=child.name,
                # Marks against the school's profile are never pushed (services/forbidden.py).
                marks=[
                    mark
                    for mark in await journal.marks(
                        session, child, start=start, end=end, profile=context.profile
                    )
                    if not mark.under_review
                ],
                absent=absences.absent,
                absent_invalid=absences.absent - absences.absent_valid,
                late=absences.late,
                period=period,
                forecasts=forecasts,
                sex=child.sex,
            )
        )
