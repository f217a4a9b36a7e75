"""Journal entries teachers have not made, by their school's deadlines (SPEC §4).

What is missing: a lesson's topic, its attendance, the homework set at it, the marks of
written and control work planned for it (`lessons.work_kind_id`), and a period's final grades
as their deadline approaches. Deadlines come from the school's regulation profile
(`services/profiles.py`, each value citing its seed). The teacher who must make the entry is
the one who taught the lesson: the substitute when there was one (seed 000 §5.2, seed 004
§4.4.3). Reminders (`services/reminders.py`) and the deputy's report (`services/reports.py`)
tell of them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.access import lesson_teacher
from services.db.current import is_current_mark
from services.notifications.payloads import GapCategory as Category
from services.notifications.payloads import MissingEntry
from services.profiles import Profile, profile_for
from services.zones import DEFAULT_TIMEZONE

# Overdue gaps older than this are left to the deputy's report, not repeated every morning.
LOOKBACK_DAYS = 30


@dataclass(frozen=True, slots=True)
class Gap:
    """One missing entry, for the teacher who must make it."""

    category: Category
    staff_id: int
    school_id: int
    class_label: str
    subject: str
    day: date  # the lesson's date; for final grades the period's last day
    slot: int  # the lesson's number in the day; 0 for final grades
    due: datetime
    missing: int = 0  # students without a mark or a final grade
    ref: int = 0  # the lesson (or, for final grades, the teaching assignment)
    subgroup: str | None = None
    period: str | None = None  # "quarter:2" for final grades
    class_id: int = 0

    @property
    def key(self) -> str:
        """Unique per gap, short enough for `reminder_told.gap`."""
        return f"{self.category}:{self.ref}:{self.period or ''}"

    def entry(self) -> MissingEntry:
        """The gap as a reminder or the deputy's report tells it."""
        return MissingEntry(
            category=self.category,
            class_label=self.class_label,
            subject=self.subject,
            day=self.day,
            slot=self.slot,
            due=self.due,
            missing=self.missing,
            subgroup=self.subgroup,
            period=self.period,
        )


@dataclass(frozen=True, slots=True)
class SchoolRules:
    id: int
    zone: ZoneInfo
    profile: Profile


async def schools(
    connection: AsyncConnection,
    only: list[int] | None = None,
    *,
    default_zone: str = DEFAULT_TIMEZONE,
) -> list[SchoolRules]:
    rows = await connection.execute(
        text(
            "SELECT id, timezone, profile, overrides FROM schools"
            " WHERE CAST(:only AS bigint[]) IS NULL OR id = ANY(CAST(:only AS bigint[]))"
            " ORDER BY id"
        ),
        {"only": only},
    )
    return [
        SchoolRules(school_id, zone_or(zone, default_zone), profile_for(key, overrides))
        for school_id, zone, key, overrides in rows
    ]


def zone_or(name: str | None, default: str) -> ZoneInfo:
    """The zone of this name; `default` when there is none or it is unknown."""
    try:
        return ZoneInfo(name or default)
    except (KeyError, ValueError):
        return ZoneInfo(default)


def _taught(owner: str) -> str:
    """SQL: student `s` is taught at `owner` (a lesson or an assignment): its class's current
    students, or its subgroup's where it has one."""
    return f"""s.class_id = {owner}.class_id AND s.left_at IS NULL
                     AND ({owner}.subgroup_id IS NULL OR EXISTS (
                         SELECT 1 FROM subgroup_members sm
                         WHERE sm.subgroup_id = {owner}.subgroup_id AND sm.student_id = s.id))"""


# Every lesson of the window that lacks something, with what it lacks. Students counted for
# marks are the class's (or subgroup's) present students without a current mark.
_LESSON_GAPS = text(
    f"""
    SELECT * FROM (
        SELECT l.id, l.school_id, {lesson_teacher("l")} AS staff_id,
               l.date, l.slot, l.ends_at, c.grade, c.letter, sg.name AS subgroup, sub.name,
               l.class_id,
               (l.topic IS NULL OR btrim(l.topic) = '') AS no_topic,
               (l.attendance_taken_at IS NULL) AS no_attendance,
               hw.lesson_id IS NULL AS no_homework,
               wk.code, wk.is_control,
               CASE WHEN wk.id IS NOT NULL THEN (
                   SELECT count(*) FROM students s
                   WHERE {_taught("l")}
                     AND NOT EXISTS (
                         SELECT 1 FROM attendance a
                         WHERE a.lesson_id = l.id AND a.student_id = s.id
                           AND a.kind = 'absent')
                     -- the lesson's current marks, read once per lesson
                     AND s.id NOT IN (
                         SELECT mk.student_id FROM marks mk
                         WHERE mk.lesson_id = l.id AND {is_current_mark("mk")})
               ) ELSE 0 END AS unmarked,
               (SELECT max(x.ends_at) FROM lessons x
                WHERE x.class_id = l.class_id AND x.date = l.date) AS day_ends
        FROM lessons l
        JOIN classes c ON c.id = l.class_id
        JOIN subjects sub ON sub.id = l.subject_id
        LEFT JOIN subgroups sg ON sg.id = l.subgroup_id
        LEFT JOIN work_kinds wk ON wk.id = l.work_kind_id AND (wk.is_written OR wk.is_control)
        LEFT JOIN LATERAL (SELECT h.lesson_id FROM homework h WHERE h.lesson_id = l.id
                           LIMIT 1) hw ON true
        WHERE l.school_id = :school AND l.date BETWEEN :since AND :until
          -- only lessons that have taken place
          AND (l.date < :until OR l.ends_at <= CAST(:local_time AS time))
        OFFSET 0  -- evaluated per lesson of the window, then filtered
    ) lesson
    WHERE no_topic OR no_attendance OR no_homework OR unmarked > 0
    """
)

# Per teaching assignment of the period's classes: students without a current final grade.
_FINAL_GAPS = text(
    f"""
    SELECT t.id, t.staff_id, c.grade, c.letter, sg.name, sub.name, t.class_id,
           (SELECT count(*) FROM students s
            WHERE {_taught("t")}
              AND NOT EXISTS (
                  SELECT 1 FROM current_final_grades f
                  WHERE f.student_id = s.id AND f.subject_id = t.subject_id
                    AND f.period_id = :period)
           ) AS missing
    FROM teaching_assignments t
    JOIN classes c ON c.id = t.class_id AND c.academic_year_id = :year
    JOIN subjects sub ON sub.id = t.subject_id
    LEFT JOIN subgroups sg ON sg.id = t.subgroup_id
    JOIN staff st ON st.id = t.staff_id AND st.left_at IS NULL
    WHERE c.grade >= :from_grade
    """
)

_PERIODS = text(
    """
    SELECT p.id, p.academic_year_id, p.kind, p.number, p.ends_on
    FROM periods p JOIN academic_years y ON y.id = p.academic_year_id
    WHERE y.school_id = :school AND p.kind IN (:kind, 'year')
      AND p.ends_on BETWEEN :since AND :until
    """
)


def _label(grade: int, letter: str) -> str:
    return f"{grade}{letter}"


async def school_gaps(
    connection: AsyncConnection, school: SchoolRules, now: datetime
) -> list[Gap]:
    """Every gap of one school whose lesson lies in the last `LOOKBACK_DAYS` days."""
    local = now.astimezone(school.zone)
    local_today = local.date()
    profile = school.profile
    gaps: list[Gap] = []
    rows = await connection.execute(
        _LESSON_GAPS,
        {
            "school": school.id,
            "since": local_today - timedelta(days=LOOKBACK_DAYS),
            "until": local_today,
            "local_time": local.time().replace(tzinfo=None),
        },
    )
    for row in rows:
        (lesson, school_id, staff, day, slot, ends_at, grade, letter, subgroup, subject) = row[:10]
        class_id = row[10]
        no_topic, no_attendance, no_homework, code, is_control, unmarked, day_ends = row[11:]
        label = _label(grade, letter)

        base = Gap(
            Category.TOPIC,
            staff,
            school_id,
            label,
            subject,
            day,
            slot,
            now,
            0,
            lesson,
            subgroup,
            class_id=class_id,
        )

        def gap(category: Category, due: datetime, missing: int = 0, base: Gap = base) -> Gap:
            return replace(base, category=category, due=due, missing=missing)

        if no_topic:
            gaps.append(gap(Category.TOPIC, profile.topic_due.at(day, ends_at, school.zone)))
        if no_attendance:
            gaps.append(
                gap(Category.ATTENDANCE, profile.attendance_due.at(day, ends_at, school.zone))
            )
        if no_homework and grade >= profile.homework_from_grade:
            # "В течение 1.5 часа после окончания занятий в данной конкретной группе"
            # (seed 002 §2.7): hours count from the class's last lesson of the day.
            gaps.append(
                gap(Category.HOMEWORK, profile.homework_due.at(day, day_ends, school.zone))
            )
        if code is not None and unmarked and grade >= profile.marks_from_grade:
            rule = profile.control_due if is_control else profile.written_due
            if code == "essay" and grade >= 10:
                rule = profile.essay_senior_due
            gaps.append(gap(Category.MARKS, rule.at(day, ends_at, school.zone), unmarked))
    gaps.extend(await _final_gaps(connection, school, local_today))
    return gaps


async def _final_gaps(connection: AsyncConnection, school: SchoolRules, today: date) -> list[Gap]:
    profile = school.profile
    # Periods whose final grades fall due from the warning window on, or were due lately.
    since = today - timedelta(days=LOOKBACK_DAYS) - timedelta(days=profile.finals_days)
    until = today + timedelta(days=profile.finals_warn_days) - timedelta(days=profile.finals_days)
    periods = await connection.execute(
        _PERIODS,
        {"school": school.id, "kind": profile.period_kind, "since": since, "until": until},
    )
    gaps: list[Gap] = []
    for period, year, kind, number, ends_on in periods.all():
        due_day = ends_on + timedelta(days=profile.finals_days)
        due = datetime.combine(due_day + timedelta(days=1), time(0), school.zone)
        rows = await connection.execute(
            _FINAL_GAPS,
            {"period": period, "year": year, "from_grade": profile.marks_from_grade},
        )
        for assignment, staff, grade, letter, subgroup, subject, class_id, missing in rows:
            if missing:
                gaps.append(
                    Gap(
                        Category.FINALS,
                        staff,
                        school.id,
                        _label(grade, letter),
                        subject,
                        ends_on,
                        0,
                        due,
                        missing,
                        assignment,
                        subgroup,
                        f"{kind}:{number}",
                        class_id=class_id,
                    )
                )
    return gaps
