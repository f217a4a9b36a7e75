"""Journal entries against the school's regulation: marks and final grades it does not allow.

The school's journal program may write a mark the regulation forbids: any mark in grade 1
(seed 001 §4.3.6), a special mark where only five-point ones are allowed (seed 000 §5.8), "осв"
anywhere or "н/а" as a term's, year's or final grade (seed 004 §5.3). The row stands (the
journal is the source of truth), but the product treats it as an entry under review: families
hear nothing of it and screens show it as such without counting it (`services/journal/grades`,
the forecast), its author hears of it in the next reminder and the deputy in the weekly report
(`services/gaps`), and a forbidden final grade is not "set". `Profile.allows` is the one rule;
this module reads what it needs to apply it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.access import lesson_teacher
from services.notifications.changes import JournalEvent
from services.profiles import FIVE_POINT, Profile, profile_for

_FIVE = ", ".join(f"'{value}'" for value in sorted(FIVE_POINT))

# --- the fan-out -------------------------------------------------------------------------

_LESSON_PLACES = text(
    """
    SELECT l.id, c.grade, s.profile, s.overrides
    FROM lessons l JOIN classes c ON c.id = l.class_id JOIN schools s ON s.id = l.school_id
    WHERE l.id = ANY(CAST(:ids AS bigint[]))
    """
)

# A final grade's class is the student's; its period tells whether it is a term's or year's.
_FINAL_PLACES = text(
    """
    SELECT st.id, p.id, c.grade, s.profile, s.overrides, p.kind
    FROM students st JOIN schools s ON s.id = st.school_id
    LEFT JOIN classes c ON c.id = st.class_id
    JOIN periods p ON p.id = ANY(CAST(:periods AS bigint[]))
    WHERE st.id = ANY(CAST(:students AS bigint[]))
    """
)


@dataclass(frozen=True, slots=True)
class _Place:
    profile: Profile
    grade: int | None
    period_kind: str | None = None

    def allows(self, row: dict[str, Any] | None) -> bool:
        value = (row or {}).get("value")
        return self.profile.allows(value, grade=self.grade, period_kind=self.period_kind)


def _row(event: JournalEvent) -> dict[str, Any]:
    return event.new or event.old or {}


async def _places(
    connection: AsyncConnection, events: Sequence[JournalEvent]
) -> dict[int, _Place]:
    """Where each mark or final grade event's value stands, by event id."""
    marks = [e for e in events if e.table_name == "marks"]
    finals = [e for e in events if e.table_name == "final_grades"]
    places: dict[int, _Place] = {}
    if marks:
        lessons = {e.lesson_id or _row(e).get("lesson_id") for e in marks}
        rows = await connection.execute(_LESSON_PLACES, {"ids": [i for i in lessons if i]})
        by_lesson = {
            lesson: _Place(profile_for(key, overrides), grade)
            for lesson, grade, key, overrides in rows
        }
        for event in marks:
            place = by_lesson.get(event.lesson_id or _row(event).get("lesson_id") or 0)
            if place is not None:
                places[event.id] = place
    if finals:
        rows = await connection.execute(
            _FINAL_PLACES,
            {
                "students": sorted({e.student_id for e in finals if e.student_id}),
                "periods": sorted({p for e in finals if (p := _row(e).get("period_id"))}),
            },
        )
        by_final = {
            (student, period): _Place(profile_for(key, overrides), grade, kind)
            for student, period, grade, key, overrides, kind in rows
        }
        for event in finals:
            place = by_final.get((event.student_id or 0, _row(event).get("period_id") or 0))
            if place is not None:
                places[event.id] = place
    return places


async def family_events(
    connection: AsyncConnection, events: Sequence[JournalEvent]
) -> list[JournalEvent]:
    """The events families may hear of: a mark or final grade the school's profile does not
    allow is never told, nor its removal; a correction of one to an allowed value is told as
    a new entry, since the family never saw the value it replaces."""
    places = await _places(connection, events)
    told: list[JournalEvent] = []
    for event in events:
        place = places.get(event.id)
        if place is None:
            told.append(event)
            continue
        action = event.kind.split(".", 1)[-1]
        if action == "removed":
            if place.allows(event.old):
                told.append(event)
        elif place.allows(event.new):
            if action == "corrected" and not place.allows(event.old):
                kind = event.kind.split(".", 1)[0] + ".new"
                told.append(replace(event, kind=kind, old=None))
            else:
                told.append(event)
    return told


# --- screens -------------------------------------------------------------------------------

_SCHOOL_PROFILE = text("SELECT profile, overrides FROM schools WHERE id = :school")


async def school_profile(session: AsyncSession, school_id: int) -> Profile:
    """The profile of a school the caller already has the right to read of."""
    row = (await session.execute(_SCHOOL_PROFILE, {"school": school_id})).first()
    return profile_for(*row) if row is not None else profile_for(None)


# --- reminders and the deputy's report ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """Entries of one value against the rules, by one teacher, at one lesson or for one
    subject and period: what a reminder and the deputy's report tell."""

    ref: int  # the first such row's id
    staff_id: int
    class_id: int
    class_label: str
    subject: str
    day: date  # the lesson's date; for a final grade the period's last day
    slot: int  # 0 for a final grade
    value: str
    count: int
    written_at: datetime  # the first one's
    subgroup: str | None = None
    period: str | None = None  # "quarter:2" for final grades


# Candidates only (not five-point, or in a grade before marks): `Profile.allows` decides.
# The teacher who wrote the row is told, else the lesson's.
_MARK_CANDIDATES = text(
    f"""
    SELECT mk.id, coalesce(mk.author_id, {lesson_teacher("l")}), l.id, l.date, l.slot,
           c.grade, c.letter, sg.name, sub.name, l.class_id, mk.value, mk.created_at
    FROM lessons l
    JOIN current_marks mk ON mk.lesson_id = l.id
    JOIN classes c ON c.id = l.class_id
    JOIN subjects sub ON sub.id = l.subject_id
    LEFT JOIN subgroups sg ON sg.id = l.subgroup_id
    WHERE l.school_id = :school AND l.date BETWEEN :since AND :until
      AND (mk.value NOT IN ({_FIVE}) OR c.grade < :from_grade)
    ORDER BY mk.id
    """
)

# Final grades written in the window; without an author, the subject's teacher in the class.
_FINAL_CANDIDATES = text(
    f"""
    SELECT f.id,
           coalesce(f.author_id, (SELECT t.staff_id FROM teaching_assignments t
                                  WHERE t.class_id = st.class_id AND t.subject_id = f.subject_id
                                  ORDER BY t.id LIMIT 1)),
           p.id, p.ends_on, p.kind, p.number, c.grade, c.letter, sub.name, st.class_id,
           f.value, f.created_at
    FROM current_final_grades f
    JOIN students st ON st.id = f.student_id AND st.school_id = :school
    JOIN classes c ON c.id = st.class_id
    JOIN subjects sub ON sub.id = f.subject_id
    JOIN periods p ON p.id = f.period_id
    WHERE f.created_at >= :written_since
      AND (f.value NOT IN ({_FIVE}) OR c.grade < :from_grade)
    ORDER BY f.id
    """
)


async def entries(
    connection: AsyncConnection,
    school_id: int,
    profile: Profile,
    *,
    since: date,
    until: date,
    written_since: datetime,
) -> list[Entry]:
    """The school's current marks of lessons from `since` to `until`, and final grades
    written from `written_since` on, that its profile does not allow, grouped per teacher,
    lesson (or subject and period) and value."""
    found: dict[tuple[Any, ...], Entry] = {}

    def add(key: tuple[Any, ...], entry: Entry) -> None:
        known = found.get(key)
        found[key] = entry if known is None else replace(known, count=known.count + 1)

    marks = await connection.execute(
        _MARK_CANDIDATES,
        {
            "school": school_id,
            "since": since,
            "until": until,
            "from_grade": profile.marks_from_grade,
        },
    )
    for ref, staff, lesson, day, slot, grade, letter, subgroup, subject, cls, value, at in marks:
        if staff is None or profile.allows(value, grade=grade):
            continue
        label = f"{grade}{letter}"
        entry = Entry(ref, staff, cls, label, subject, day, slot, value, 1, at, subgroup)
        add(("mark", staff, lesson, value), entry)
    finals = await connection.execute(
        _FINAL_CANDIDATES,
        {
            "school": school_id,
            "written_since": written_since,
            "from_grade": profile.marks_from_grade,
        },
    )
    for row in finals:
        ref, staff, period, ends_on, kind, number, grade, letter, subject, cls, value, at = row
        if staff is None or profile.allows(value, grade=grade, period_kind=kind):
            continue
        label = f"{grade}{letter}"
        entry = Entry(
            ref, staff, cls, label, subject, ends_on, 0, value, 1, at, period=f"{kind}:{number}"
        )
        add(("final", staff, period, cls, subject, value), entry)
    return list(found.values())
