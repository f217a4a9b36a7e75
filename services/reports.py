"""Weekly summaries: the class teacher's (seed 000 §6.3, seed 004 §3.3.1) and the deputy
director's report on journal keeping (seed 004 §7.1 "один раз в неделю", §4.6.5).

Facts are gathered when the run happens and queued as the message's payload; the text and the
XLSX are made when it is sent, in the recipient's language.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services import access
from services.corrections import week_corrections
from services.db import models as m
from services.db.current import is_current_mark
from services.gaps import Gap, SchoolRules, school_gaps
from services.journal.school import PeriodRef, class_terms
from services.notifications.fanout import after_quiet_hours
from services.notifications.payloads import (
    ClassWeek,
    DeputyWeek,
    GapCategory,
    OverdueEntry,
    StaffPayload,
    StudentWeek,
    TeacherFigures,
    encode,
)
from services.notifications.preferences import staff_report_off
from services.profiles import Due

# Where a summary goes and when: an account's chat and quiet hours.
_SETTINGS = (
    m.Account.id,
    m.Account.chat_id,
    m.Account.quiet_from,
    m.Account.quiet_to,
    m.Account.timezone,
)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the ISO week of `day`."""
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


# --- the class teacher's week --------------------------------------------------------------


def class_teacher_readers(school_id: int, today: date) -> Select[*tuple[Any, ...]]:
    """The class teachers' accounts (services.access) of the school's classes this year."""
    teachers = access.class_teacher_accounts().subquery()
    school_class, year, account = m.SchoolClass, m.AcademicYear, m.Account
    return (
        select(
            teachers.c.class_id,
            school_class.grade,
            school_class.letter,
            *_SETTINGS,
        )
        .select_from(teachers)
        .join(
            school_class,
            and_(school_class.id == teachers.c.class_id, school_class.school_id == school_id),
        )
        .join(
            year,
            and_(
                year.id == school_class.academic_year_id,
                year.starts_on <= today,
                year.ends_on >= today,
            ),
        )
        .join(account, and_(account.id == teachers.c.account_id, account.is_active))
    )


# Per student of the class: the week's absences (valid or not), lateness, 2s.
_CLASS_WEEK = text(
    """
    SELECT s.id, s.last_name, s.first_name,
           count(a.id) FILTER (WHERE a.kind = 'absent' AND a.is_valid) AS valid,
           count(a.id) FILTER (WHERE a.kind = 'absent' AND NOT a.is_valid) AS invalid,
           count(a.id) FILTER (WHERE a.kind = 'late') AS late,
           (SELECT coalesce(array_agg(DISTINCT sub.name), '{}')
            FROM current_marks mk JOIN lessons ml ON ml.id = mk.lesson_id
            JOIN subjects sub ON sub.id = ml.subject_id
            -- five-point marks the profile allows: not before `marks_from_grade` (seed 001
            -- §4.3.6; services/forbidden.py)
            JOIN classes mc ON mc.id = ml.class_id AND mc.grade >= :from_grade
            WHERE mk.student_id = s.id AND mk.value IN ('1', '2')
              AND ml.date BETWEEN :start AND :end) AS twos
    FROM students s
    LEFT JOIN attendance a ON a.student_id = s.id
         AND a.lesson_id IN (SELECT id FROM lessons WHERE class_id = :class
                             AND date BETWEEN :start AND :end)
    WHERE s.class_id = :class AND s.left_at IS NULL
    GROUP BY s.id
    ORDER BY s.last_name, s.first_name
    """
)

# Subjects where a student's weighted average of the period rounds to 2 or less.
_FAILING = text(
    """
    SELECT mk.student_id, sub.name,
           sum(CAST(mk.value AS numeric) * coalesce(mk.weight, wk.weight, 1))
             / sum(coalesce(mk.weight, wk.weight, 1)) AS average
    FROM current_marks mk
    JOIN lessons ml ON ml.id = mk.lesson_id AND ml.class_id = :class
                   AND ml.date BETWEEN :start AND :end
    JOIN subjects sub ON sub.id = ml.subject_id
    JOIN classes mc ON mc.id = ml.class_id AND mc.grade >= :from_grade  -- as in _CLASS_WEEK
    LEFT JOIN work_kinds wk ON wk.id = mk.work_kind_id
    WHERE mk.value IN ('1', '2', '3', '4', '5')
    GROUP BY mk.student_id, sub.name
    HAVING sum(CAST(mk.value AS numeric) * coalesce(mk.weight, wk.weight, 1))
             / sum(coalesce(mk.weight, wk.weight, 1)) < 2 + CAST(:round_from AS numeric)
    """
)

# The periods of the class's year, and its grade: which of them it follows is its grade's.
CLASS_PERIODS = text(
    """
    SELECT c.grade, p.id, p.kind, p.number, p.starts_on, p.ends_on
    FROM classes c JOIN periods p ON p.academic_year_id = c.academic_year_id
    WHERE c.id = :class
    """
)


async def class_week(
    connection: AsyncConnection,
    school: SchoolRules,
    *,
    class_id: int,
    start: date,
    end: date,
    gaps: list[Gap],
    now: datetime,
    label: str = "",
) -> ClassWeek:
    """The class teacher's weekly summary of the class `label` as a payload."""
    students = (
        await connection.execute(
            _CLASS_WEEK,
            {
                "class": class_id,
                "start": start,
                "end": end,
                "from_grade": school.profile.marks_from_grade,
            },
        )
    ).all()
    rows = (await connection.execute(CLASS_PERIODS, {"class": class_id})).all()
    terms = class_terms(
        school.profile, rows[0][0] if rows else None, [PeriodRef(*r[1:]) for r in rows]
    )
    period = next(((t.starts_on, t.ends_on) for t in terms if t.holds(end)), None)
    failing: dict[int, list[str]] = defaultdict(list)
    if period is not None:
        for student, subject, _ in await connection.execute(
            _FAILING,
            {
                "class": class_id,
                "start": period[0],
                "end": min(period[1], end),
                "round_from": school.profile.round_from,
                "from_grade": school.profile.marks_from_grade,
            },
        ):
            failing[student].append(subject)
    behind: dict[str, int] = defaultdict(int)
    for gap in gaps:
        if gap.due <= now:
            behind[gap.subject] += 1
    return ClassWeek(
        start=start,
        end=end,
        class_id=class_id,
        class_label=label,
        students=tuple(
            StudentWeek(
                name=f"{last} {first}",
                valid=valid,
                invalid=invalid,
                late=late,
                twos=tuple(sorted(twos)),
                failing=tuple(sorted(failing.get(sid, []))),
            )
            for sid, last, first, valid, invalid, late, twos in students
        ),
        behind=tuple(sorted(behind.items(), key=lambda item: (-item[1], item[0]))),
    )


# --- the deputy's report --------------------------------------------------------------------


def deputy_readers(school_id: int) -> Select[*tuple[Any, ...]]:
    """The accounts of the school's deputy directors and administrators (services.access)."""
    deputies = access.deputy_accounts().subquery()
    account = m.Account
    return (
        select(*_SETTINGS)
        .distinct()
        .select_from(deputies)
        .join(account, and_(account.id == deputies.c.account_id, account.is_active))
        .where(deputies.c.school_id == school_id)
    )


_WEEK_LESSONS = text(
    f"""
    SELECT {access.lesson_teacher("l")} AS staff_id, l.date, l.ends_at,
           (SELECT max(x.ends_at) FROM lessons x
            WHERE x.class_id = l.class_id AND x.date = l.date) AS day_ends,
           l.topic_at, l.attendance_taken_at,
           (SELECT min(h.created_at) FROM homework h WHERE h.lesson_id = l.id) AS homework_at,
           c.grade,
           (SELECT array_agg(mk.value) FROM marks mk WHERE mk.lesson_id = l.id
              AND {is_current_mark("mk")}) AS marks,
           shift.ends AS shift_ends, l.no_homework
    FROM lessons l JOIN classes c ON c.id = l.class_id
    -- the last lesson of the class's shift that day, school-wide (seed 000 §5.5)
    JOIN (SELECT x.date, xc.shift, max(x.ends_at) AS ends
          FROM lessons x JOIN classes xc ON xc.id = x.class_id
          WHERE x.school_id = :school AND x.date BETWEEN :start AND :end
          GROUP BY x.date, xc.shift) shift ON shift.date = l.date AND shift.shift = c.shift
    WHERE l.school_id = :school AND l.date BETWEEN :start AND :end
      AND (CAST(:class AS bigint) IS NULL OR l.class_id = CAST(:class AS bigint))
    """
)

_STAFF_NAMES = text(
    "SELECT id, last_name, first_name, middle_name FROM staff WHERE id = ANY(:ids)"
)


@dataclass
class TeacherWeek:
    lessons: int = 0
    # Lessons whose deadline has passed: the shares are of these, not of entries still due.
    topic_due: int = 0
    topic_on_time: int = 0
    attendance_due: int = 0
    attendance_on_time: int = 0
    homework_expected: int = 0
    homework_on_time: int = 0
    marks: int = 0
    overdue_marks: int = 0
    overdue: int = 0


def _deadline(
    rule: Due | None, day: date, ends_at: time, zone: ZoneInfo, shift_ends: time | None = None
) -> datetime | None:
    """The entry's deadline; None where the profile leaves it unstated."""
    return None if rule is None else rule.at(day, ends_at, zone, shift_ends=shift_ends)


async def deputy_week(
    connection: AsyncConnection,
    school: SchoolRules,
    *,
    start: date,
    end: date,
    gaps: list[Gap],
    now: datetime,
    class_id: int | None = None,
    corrections_since: datetime | None = None,
) -> DeputyWeek:
    """Journal keeping per teacher in the week (seed 004 §4.6.5): the share of lessons whose
    topic, attendance and homework were entered by the deadline, marks given, overdue work;
    of one class's lessons only when `class_id` is given."""
    profile = school.profile
    weeks: dict[int, TeacherWeek] = defaultdict(TeacherWeek)
    rows = await connection.execute(
        _WEEK_LESSONS, {"school": school.id, "start": start, "end": end, "class": class_id}
    )
    for row in rows:
        staff, day, ends_at, day_ends, topic_at, taken_at, homework_at, grade, marks = row[:9]
        shift_ends, no_homework = row[9:]
        week = weeks[staff]
        week.lessons += 1
        # Marks against the school's rules (services/forbidden.py) are listed, not counted.
        week.marks += sum(1 for value in marks or () if profile.allows(value, grade=grade))
        # A rule the profile leaves unstated (None) has no deadline: nothing is counted late.
        topic_due = _deadline(profile.topic_due, day, ends_at, school.zone)
        if topic_due is not None and topic_due <= now:
            week.topic_due += 1
            if topic_at is not None and topic_at <= topic_due:
                week.topic_on_time += 1
        attendance_due = _deadline(profile.attendance_due, day, ends_at, school.zone)
        if attendance_due is not None and attendance_due <= now:
            week.attendance_due += 1
            if taken_at is not None and taken_at <= attendance_due:
                week.attendance_on_time += 1
        homework_due = _deadline(profile.homework_due, day, day_ends, school.zone, shift_ends)
        # A lesson marked "no homework set" expects none (seed 002 §2.7 "если задается").
        if (
            not no_homework
            and grade >= profile.homework_from_grade
            and homework_due is not None
            and homework_due <= now
        ):
            week.homework_expected += 1
            if homework_at is not None and homework_at <= homework_due:
                week.homework_on_time += 1
    overdue = [g for g in gaps if g.due <= now]
    for gap in overdue:
        weeks[gap.staff_id].overdue += 1
        if gap.category is GapCategory.MARKS:
            weeks[gap.staff_id].overdue_marks += 1
    names = {
        row[0]: " ".join(part for part in row[1:] if part)
        for row in await connection.execute(_STAFF_NAMES, {"ids": list(weeks)})
    }
    order = sorted(weeks, key=lambda staff: (-weeks[staff].overdue, names.get(staff, "")))
    teachers = tuple(
        TeacherFigures(
            name=names.get(staff, f"#{staff}"),
            lessons=w.lessons,
            topic_due=w.topic_due,
            topic=w.topic_on_time,
            attendance_due=w.attendance_due,
            attendance=w.attendance_on_time,
            homework_expected=w.homework_expected,
            homework=w.homework_on_time,
            marks=w.marks,
            overdue_marks=w.overdue_marks,
            overdue=w.overdue,
        )
        for staff, w in ((staff, weeks[staff]) for staff in order)
    )
    told = sorted(overdue, key=lambda g: (g.staff_id, g.day, g.class_label, g.slot))[:2000]
    return DeputyWeek(
        start=start,
        end=end,
        school_id=school.id,
        teachers=teachers,
        overdue=tuple(
            OverdueEntry(**g.entry().model_dump(), teacher=names.get(g.staff_id, f"#{g.staff_id}"))
            for g in told
        ),
        # Every correction of a mark, the late ones flagged (seed 003 §8.6).
        corrections=await week_corrections(connection, school, now=now, since=corrections_since),
        correction_days=profile.correction_days,
    )


# --- the same reports on demand: any week or period, a class or the whole school --------------


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


async def class_report(
    connection: AsyncConnection,
    school: SchoolRules,
    *,
    class_id: int,
    label: str,
    start: date,
    end: date,
    now: datetime,
) -> ClassWeek:
    """The class teacher's summary of `start`–`end` (a week) asked for in the bot, as the
    Friday one is made (seed 000 §6.3, seed 004 §3.3.1); the subjects behind are those with
    entries still overdue for lessons of these days. The caller checked that the reader is
    the class's class teacher (services/access.py)."""
    today = now.astimezone(school.zone).date()
    end = min(end, today)
    gaps = await school_gaps(connection, school, now, since=start)
    return await class_week(
        connection,
        school,
        class_id=class_id,
        start=start,
        end=end,
        gaps=[g for g in gaps if g.class_id == class_id and start <= g.day <= end],
        now=now,
        label=label,
    )


async def deputy_report(
    connection: AsyncConnection,
    school: SchoolRules,
    *,
    start: date,
    end: date,
    now: datetime,
    class_id: int | None = None,
    class_label: str = "",
) -> DeputyWeek:
    """The deputy's report on journal keeping for any days `start`–`end` (a week or a
    period) and the whole school or one class, asked for in the bot (seed 004 §7.1, §4.6.5):
    entries still overdue for lessons of these days, corrections made during them. The
    caller checked that the reader is the school's deputy (services/access.py)."""
    today = now.astimezone(school.zone).date()
    end = min(end, today)
    gaps = [
        g
        for g in await school_gaps(connection, school, now, since=start)
        if start <= g.day <= end and (class_id is None or g.class_id == class_id)
    ]
    report = await deputy_week(
        connection,
        school,
        start=start,
        end=end,
        gaps=gaps,
        now=now,
        class_id=class_id,
        corrections_since=_local_midnight(start, school.zone),
    )
    corrections = tuple(
        c
        for c in report.corrections
        if c.corrected_on <= end and (class_id is None or c.class_label == class_label)
    )
    return report.model_copy(update={"corrections": corrections})


_QUEUE = text(
    """
    INSERT INTO notifications (account_id, chat_id, student_id, category, dedup_key, payload,
                               not_before)
    VALUES (:account, :chat, NULL, :category, :key, CAST(:payload AS jsonb), :not_before)
    ON CONFLICT (account_id, dedup_key) DO NOTHING
    """
)


async def queue_weekly_reports(
    connection: AsyncConnection, school: SchoolRules, now: datetime
) -> int:
    """Queue the week's summaries of one school: to each class teacher and each deputy."""
    today = now.astimezone(school.zone).date()
    start, end = week_of(today)
    end = min(end, today)
    gaps = await school_gaps(connection, school, now)
    queued = 0
    week_key = f"{start.isocalendar().year}-W{start.isocalendar().week:02d}"
    for class_id, grade, letter, account, chat, quiet_from, quiet_to, zone in (
        await connection.execute(class_teacher_readers(school.id, today))
    ).all():
        week = await class_week(
            connection,
            school,
            class_id=class_id,
            start=start,
            end=end,
            gaps=[g for g in gaps if g.class_id == class_id],
            now=now,
            label=f"{grade}{letter}",
        )
        reader = (account, chat, quiet_from, quiet_to, zone)
        key = f"class_week:{class_id}:{week_key}"
        queued += await queue_for(connection, reader, key, week, school=school, now=now)
    deputies = (await connection.execute(deputy_readers(school.id))).all()
    if deputies:
        report = await deputy_week(connection, school, start=start, end=end, gaps=gaps, now=now)
        for reader in deputies:
            key = f"deputy_week:{school.id}:{week_key}"
            queued += await queue_for(
                connection, tuple(reader), key, report, school=school, now=now
            )
    return queued


async def queue_for(
    connection: AsyncConnection,
    reader: tuple[int, int, time, time, str | None],
    key: str,
    payload: StaffPayload,
    *,
    school: SchoolRules,
    now: datetime,
) -> int:
    """One summary for one reader, once per key: now, or after their quiet hours (SPEC §5);
    none when the reader has turned this kind off in /settings."""
    account, chat, quiet_from, quiet_to, zone = reader
    if await staff_report_off(connection, account, payload.kind):
        return 0
    result = await connection.execute(
        _QUEUE,
        {
            "account": account,
            "chat": chat,
            "category": payload.kind,
            "key": key,
            "payload": encode(payload),
            "not_before": after_quiet_hours(
                now, ZoneInfo(zone) if zone else school.zone, quiet_from, quiet_to
            ),
        },
    )
    return int(result.rowcount)
