"""Corrections of marks as the deputy's weekly report lists them (seed 003 §8.6).

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
           o.value, mk.value, mk.reason
    FROM marks mk
    JOIN marks o ON o.id = mk.replaces_id
    JOIN lessons l ON l.id = mk.lesson_id
    JOIN classes c ON c.id = l.class_id
    JOIN subjects sub ON sub.id = l.subject_id
    JOIN students s ON s.id = mk.student_id
    LEFT JOIN staff st ON st.id = mk.author_id
    WHERE mk.replaces_id IS NOT NULL AND l.school_id = :school
      AND mk.created_at > :since AND mk.created_at <= :now
    ORDER BY mk.created_at, mk.id
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
    for at, day, grade, letter, subject, s_last, s_first, *author, was, value, reason in rows:
        days = (at.astimezone(school.zone).date() - day).days
        entries.append(
            CorrectionEntry(
                teacher=" ".join(part for part in author if part),
                class_label=f"{grade}{letter}",
                subject=subject,
                student=f"{s_last} {s_first}",
                day=day,
                corrected_on=at.astimezone(school.zone).date(),
                was=was,
                value=value,
                reason=reason or "",
                days=days,
                late=days > school.profile.correction_days,
            )
        )
    return tuple(entries)
