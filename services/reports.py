"""Weekly summaries: the class teacher's (seed 000 §6.3, seed 004 §3.3.1) and the deputy
director's report on journal keeping (seed 004 §7.1 "один раз в неделю", §4.6.5).

Facts are gathered when the run happens and queued as the message's payload; the text and the
XLSX are made when it is sent, in the recipient's language.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications.fanout import after_quiet_hours
from services.reminders import Category, Gap, SchoolRules, school_gaps


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the ISO week of `day`."""
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


# --- the class teacher's week --------------------------------------------------------------

_CLASS_TEACHERS = text(
    """
    SELECT r.class_id, c.grade, c.letter, a.id, a.chat_id, a.quiet_from, a.quiet_to, a.timezone
    FROM staff_roles r
    JOIN classes c ON c.id = r.class_id AND c.school_id = :school
    JOIN academic_years y ON y.id = c.academic_year_id
                         AND CAST(:today AS date) BETWEEN y.starts_on AND y.ends_on
    JOIN staff st ON st.id = r.staff_id AND st.left_at IS NULL
    JOIN account_links l ON l.staff_id = r.staff_id AND l.revoked_at IS NULL
    JOIN tg_accounts a ON a.id = l.account_id AND a.is_active
    WHERE r.role = 'class_teacher'
    """
)

# Per student of the class: the week's absences (valid or not), lateness, 2s.
_CLASS_WEEK = text(
    """
    SELECT s.id, s.last_name, s.first_name,
           count(a.id) FILTER (WHERE a.kind = 'absent' AND a.is_valid) AS valid,
           count(a.id) FILTER (WHERE a.kind = 'absent' AND NOT a.is_valid) AS invalid,
           count(a.id) FILTER (WHERE a.kind = 'late') AS late,
           (SELECT coalesce(array_agg(DISTINCT sub.name), '{}')
            FROM marks mk JOIN lessons ml ON ml.id = mk.lesson_id
            JOIN subjects sub ON sub.id = ml.subject_id
            WHERE mk.student_id = s.id AND mk.value IN ('1', '2')
              AND ml.date BETWEEN :start AND :end
              AND NOT EXISTS (SELECT 1 FROM marks r WHERE r.replaces_id = mk.id)) AS twos
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
    FROM marks mk
    JOIN lessons ml ON ml.id = mk.lesson_id AND ml.class_id = :class
                   AND ml.date BETWEEN :start AND :end
    JOIN subjects sub ON sub.id = ml.subject_id
    LEFT JOIN work_kinds wk ON wk.id = mk.work_kind_id
    WHERE mk.value IN ('1', '2', '3', '4', '5')
      AND NOT EXISTS (SELECT 1 FROM marks r WHERE r.replaces_id = mk.id)
    GROUP BY mk.student_id, sub.name
    HAVING sum(CAST(mk.value AS numeric) * coalesce(mk.weight, wk.weight, 1))
             / sum(coalesce(mk.weight, wk.weight, 1)) < 2 + CAST(:round_from AS numeric)
    """
)

_CURRENT_PERIOD = text(
    """
    SELECT p.starts_on, p.ends_on FROM periods p
    JOIN academic_years y ON y.id = p.academic_year_id
    WHERE y.school_id = :school AND p.kind = :kind AND :day BETWEEN p.starts_on AND p.ends_on
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
) -> dict[str, Any]:
    """The class teacher's weekly summary as a payload."""
    students = (
        await connection.execute(_CLASS_WEEK, {"class": class_id, "start": start, "end": end})
    ).all()
    period = (
        await connection.execute(
            _CURRENT_PERIOD, {"school": school.id, "kind": school.profile.period_kind, "day": end}
        )
    ).first()
    failing: dict[int, list[str]] = defaultdict(list)
    if period is not None:
        for student, subject, _ in await connection.execute(
            _FAILING,
            {
                "class": class_id,
                "start": period[0],
                "end": min(period[1], end),
                "round_from": school.profile.round_from,
            },
        ):
            failing[student].append(subject)
    behind: dict[str, int] = defaultdict(int)
    for gap in gaps:
        if gap.due <= now:
            behind[gap.subject] += 1
    return {
        "kind": "class_week",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "students": [
            {
                "name": f"{last} {first}",
                "valid": valid,
                "invalid": invalid,
                "late": late,
                "twos": sorted(twos),
                "failing": sorted(failing.get(sid, [])),
            }
            for sid, last, first, valid, invalid, late, twos in students
        ],
        "behind": sorted(behind.items(), key=lambda item: (-item[1], item[0])),
    }


# --- the deputy's report --------------------------------------------------------------------

_DEPUTIES = text(
    """
    SELECT DISTINCT a.id, a.chat_id, a.quiet_from, a.quiet_to, a.timezone
    FROM staff_roles r
    JOIN staff st ON st.id = r.staff_id AND st.left_at IS NULL AND st.school_id = :school
    JOIN account_links l ON l.staff_id = r.staff_id AND l.revoked_at IS NULL
    JOIN tg_accounts a ON a.id = l.account_id AND a.is_active
    WHERE r.role IN ('deputy_director', 'administrator')
    """
)

_WEEK_LESSONS = text(
    """
    SELECT coalesce(l.substitute_teacher_id, l.teacher_id) AS staff_id, l.date, l.ends_at,
           (SELECT max(x.ends_at) FROM lessons x
            WHERE x.class_id = l.class_id AND x.date = l.date) AS day_ends,
           l.topic_at, l.attendance_taken_at,
           (SELECT min(h.created_at) FROM homework h WHERE h.lesson_id = l.id) AS homework_at,
           c.grade,
           (SELECT count(*) FROM marks mk WHERE mk.lesson_id = l.id AND mk.value IS NOT NULL
              AND (SELECT r.id FROM marks r WHERE r.replaces_id = mk.id LIMIT 1) IS NULL)
             AS marks
    FROM lessons l JOIN classes c ON c.id = l.class_id
    WHERE l.school_id = :school AND l.date BETWEEN :start AND :end
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


async def deputy_week(
    connection: AsyncConnection,
    school: SchoolRules,
    *,
    start: date,
    end: date,
    gaps: list[Gap],
    now: datetime,
) -> dict[str, Any]:
    """Journal keeping per teacher in the week (seed 004 §4.6.5): the share of lessons whose
    topic, attendance and homework were entered by the deadline, marks given, overdue work."""
    profile = school.profile
    weeks: dict[int, TeacherWeek] = defaultdict(TeacherWeek)
    rows = await connection.execute(
        _WEEK_LESSONS, {"school": school.id, "start": start, "end": end}
    )
    for staff, day, ends_at, day_ends, topic_at, taken_at, homework_at, grade, marks in rows:
        week = weeks[staff]
        week.lessons += 1
        week.marks += marks
        topic_due = profile.topic_due.at(day, ends_at, school.zone)
        if topic_due <= now:
            week.topic_due += 1
            if topic_at is not None and topic_at <= topic_due:
                week.topic_on_time += 1
        attendance_due = profile.attendance_due.at(day, ends_at, school.zone)
        if attendance_due <= now:
            week.attendance_due += 1
            if taken_at is not None and taken_at <= attendance_due:
                week.attendance_on_time += 1
        homework_due = profile.homework_due.at(day, day_ends, school.zone)
        if grade >= profile.homework_from_grade and homework_due <= now:
            week.homework_expected += 1
            if homework_at is not None and homework_at <= homework_due:
                week.homework_on_time += 1
    overdue = [g for g in gaps if g.due <= now]
    for gap in overdue:
        weeks[gap.staff_id].overdue += 1
        if gap.category is Category.MARKS:
            weeks[gap.staff_id].overdue_marks += 1
    names = {
        row[0]: " ".join(part for part in row[1:] if part)
        for row in await connection.execute(_STAFF_NAMES, {"ids": list(weeks)})
    }
    order = sorted(weeks, key=lambda staff: (-weeks[staff].overdue, names.get(staff, "")))
    teachers = [
        {
            "name": names.get(staff, f"#{staff}"),
            "lessons": w.lessons,
            "topic_due": w.topic_due,
            "topic": w.topic_on_time,
            "attendance_due": w.attendance_due,
            "attendance": w.attendance_on_time,
            "homework_expected": w.homework_expected,
            "homework": w.homework_on_time,
            "marks": w.marks,
            "overdue_marks": w.overdue_marks,
            "overdue": w.overdue,
        }
        for staff, w in ((staff, weeks[staff]) for staff in order)
    ]
    return {
        "kind": "deputy_week",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "teachers": teachers,
        "overdue": [
            {**g.as_json(), "teacher": names.get(g.staff_id, f"#{g.staff_id}")}
            for g in sorted(overdue, key=lambda g: (g.staff_id, g.day, g.class_label, g.slot))
        ][:2000],
    }


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
        await connection.execute(_CLASS_TEACHERS, {"school": school.id, "today": today})
    ).all():
        label = f"{grade}{letter}"
        payload = await class_week(
            connection,
            school,
            class_id=class_id,
            start=start,
            end=end,
            gaps=[g for g in gaps if g.class_id == class_id],
            now=now,
        )
        payload["class"] = label
        payload["class_id"] = class_id
        queued += await _queue(
            connection,
            (account, chat),
            f"class_week:{class_id}:{week_key}",
            payload,
            _not_before(now, school, zone, quiet_from, quiet_to),
        )
    deputies = (await connection.execute(_DEPUTIES, {"school": school.id})).all()
    if deputies:
        payload = await deputy_week(connection, school, start=start, end=end, gaps=gaps, now=now)
        payload["school_id"] = school.id
        for account, chat, quiet_from, quiet_to, zone in deputies:
            queued += await _queue(
                connection,
                (account, chat),
                f"deputy_week:{school.id}:{week_key}",
                payload,
                _not_before(now, school, zone, quiet_from, quiet_to),
            )
    return queued


async def _queue(
    connection: AsyncConnection,
    to: tuple[int, int],
    key: str,
    payload: dict[str, Any],
    not_before: datetime,
) -> int:
    """One summary for one account (account, chat), once per key."""
    result = await connection.execute(
        _QUEUE,
        {
            "account": to[0],
            "chat": to[1],
            "category": payload["kind"],
            "key": key,
            "payload": json.dumps(payload, ensure_ascii=False),
            "not_before": not_before,
        },
    )
    return int(result.rowcount)


def _not_before(
    now: datetime, school: SchoolRules, zone: str | None, quiet_from: time, quiet_to: time
) -> datetime:
    """Now, or the end of the reader's quiet hours (SPEC §5)."""
    return after_quiet_hours(now, ZoneInfo(zone) if zone else school.zone, quiet_from, quiet_to)


def share(part: int, whole: int) -> int:
    """A whole percentage; 100 when there was nothing to do."""
    return round(100 * part / whole) if whole else 100


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula is stored as text."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"}:
        return "'" + value
    return value


def deputy_xlsx(payload: dict[str, Any], headers: dict[str, str]) -> bytes:
    """The deputy's report as a workbook: a sheet per teacher's figures, one of overdue work.

    `headers` carries the column titles in the reader's language."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = headers["sheet_teachers"][:31]
    columns = [
        headers["teacher"],
        headers["lessons"],
        headers["topic"],
        headers["attendance"],
        headers["homework"],
        headers["marks"],
        headers["overdue_marks"],
        headers["overdue"],
    ]
    sheet.append(columns)
    for teacher in payload["teachers"]:
        sheet.append(
            [
                _cell(teacher["name"]),
                teacher["lessons"],
                share(teacher["topic"], teacher["topic_due"]),
                share(teacher["attendance"], teacher["attendance_due"]),
                share(teacher["homework"], teacher["homework_expected"]),
                teacher["marks"],
                teacher["overdue_marks"],
                teacher["overdue"],
            ]
        )
    overdue = book.create_sheet(headers["sheet_overdue"][:31])
    overdue.append(
        [
            headers["teacher"],
            headers["class"],
            headers["subject"],
            headers["date"],
            headers["what"],
            headers["students"],
        ]
    )
    for gap in payload["overdue"]:
        overdue.append(
            [
                _cell(gap["teacher"]),
                _cell(gap["class"]),
                _cell(gap["subject"]),
                date.fromisoformat(gap["day"]),
                headers["category:" + gap["category"]],
                gap["missing"] or None,
            ]
        )
    for ws in (sheet, overdue):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(45, max(10, width + 2))
    for row in overdue.iter_rows(min_row=2, min_col=4, max_col=4):
        for cell in row:
            cell.number_format = "DD.MM.YYYY"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
