"""Corrections of marks and final grades as the deputy's weekly report lists them (seed 003
§8.6).

Marks are never altered: an error is fixed by a new revision with a reason, "не позднее семи
дней" (the profile's `correction_days`). The deputy sees every correction and removal of the
seven days before the report: old → new, who made it, why, and how many days after the lesson,
flagged when later than the profile allows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.gaps import SchoolRules
from services.notifications.payloads import CorrectionEntry

# A report lists at most this many; a school that corrects more has a problem to see anyway.
LIMIT = 2000

# Every revision that replaces another (a correction, or a removal without a value) written
# in the window, with the revision it replaced. The partial index on `replaces_id` finds them.
_CORRECTIONS = text(
    """
    SELECT mk.created_at, l.date, c.grade, c.letter, sub.name,
           s.last_name, s.first_name, st.last_name, st.first_name, st.middle_name,
           o.value, mk.value, mk.reason, NULL AS period_kind, NULL AS period_number, mk.id
    FROM marks mk
    JOIN marks o ON o.id = mk.replaces_id
    JOIN lessons l ON l.id = mk.lesson_id
    JOIN classes c ON c.id = l.class_id
    JOIN subjects sub ON sub.id = l.subject_id
    JOIN students s ON s.id = mk.student_id
    LEFT JOIN staff st ON st.id = mk.author_id
    WHERE mk.replaces_id IS NOT NULL AND l.school_id = :school
      AND mk.created_at > :since AND mk.created_at <= :now
    UNION ALL
    -- Final grades are corrected the same way (seed 003 §8.6); their day is the period's last.
    SELECT f.created_at, p.ends_on, c.grade, c.letter, sub.name,
           s.last_name, s.first_name, st.last_name, st.first_name, st.middle_name,
           o.value, f.value, f.reason, p.kind, p.number, f.id
    FROM final_grades f
    JOIN final_grades o ON o.id = f.replaces_id
    JOIN periods p ON p.id = f.period_id
    JOIN students s ON s.id = f.student_id
    LEFT JOIN classes c ON c.id = s.class_id
    JOIN subjects sub ON sub.id = f.subject_id
    LEFT JOIN staff st ON st.id = f.author_id
    WHERE f.replaces_id IS NOT NULL AND s.school_id = :school
      AND f.created_at > :since AND f.created_at <= :now
    ORDER BY 1, 16
    LIMIT :limit
    """
)


async def week_corrections(
    connection: AsyncConnection,
    school: SchoolRules,
    *,
    now: datetime,
    since: datetime | None = None,
) -> tuple[CorrectionEntry, ...]:
    """The school's corrections of marks in the seven days up to `now`, oldest first.

    For the deputy's report only (its reader is checked when it is sent, services/access.py):
    a weekly run covers each correction once, whatever day the school's report falls on."""
    rows = await connection.execute(
        _CORRECTIONS,
        {
            "school": school.id,
            # A report asked for on demand covers its own dates (`since`).
            "since": since if since is not None else now - timedelta(days=7),
            "now": now,
            "limit": LIMIT,
        },
    )
    entries = []
    for row in rows:
        at, day, grade, letter, subject, s_last, s_first = row[:7]
        author, (was, value, reason, kind, number) = row[7:10], row[10:15]
        days = (at.astimezone(school.zone).date() - day).days
        entries.append(
            CorrectionEntry(
                teacher=" ".join(part for part in author if part),
                class_label=f"{grade}{letter}" if grade is not None else "—",
                subject=subject,
                student=f"{s_last} {s_first}",
                day=day,
                corrected_on=at.astimezone(school.zone).date(),
                was=was,
                value=value,
                reason=reason or "",
                days=days,
                late=days > school.profile.correction_days,
                period_kind=kind,
                period_number=number,
            )
        )
    return tuple(entries)
