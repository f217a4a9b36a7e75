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

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services import forbidden
from services.access import lesson_teacher
from services.db.current import is_current_mark
from services.journal.school import PeriodRef, class_terms
from services.notifications.payloads import GapCategory as Category
from services.notifications.payloads import MissingEntry
from services.profiles import SPECIAL_MARKS, Due, Profile, profile_for, senior_essay
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
    value: str | None = None  # FORBIDDEN: the value written against the rules

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
            value=self.value,
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
               -- a lesson marked "no homework set" lacks none (seed 002 §2.7 "если задается")
               hw.lesson_id IS NULL AND NOT l.no_homework AS no_homework,
               wk.code, wk.is_control, wk.internal_monitoring,
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
                WHERE x.class_id = l.class_id AND x.date = l.date) AS day_ends,
               shift.ends AS shift_ends
        FROM lessons l
        JOIN classes c ON c.id = l.class_id
        -- the last lesson of the class's shift that day, school-wide (seed 000 §5.5)
        JOIN (SELECT x.date, xc.shift, max(x.ends_at) AS ends
              FROM lessons x JOIN classes xc ON xc.id = x.class_id
              WHERE x.school_id = :school AND x.date BETWEEN :since AND :until
              GROUP BY x.date, xc.shift) shift ON shift.date = l.date AND shift.shift = c.shift
        JOIN subjects sub ON sub.id = l.subject_id
        LEFT JOIN subgroups sg ON sg.id = l.subgroup_id
        LEFT JOIN work_kinds wk ON wk.id = l.work_kind_id
              AND (wk.is_written OR wk.is_control OR wk.internal_monitoring)
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
                    AND f.period_id = :period
                    -- a grade the profile does not allow is not set (services/forbidden.py)
                    AND (f.value IN ('1', '2', '3', '4', '5')
                         OR f.value = ANY(CAST(:allowed AS text[]))))
           ) AS missing
    FROM teaching_assignments t
    JOIN classes c ON c.id = t.class_id AND c.academic_year_id = :year
    JOIN subjects sub ON sub.id = t.subject_id
    LEFT JOIN subgroups sg ON sg.id = t.subgroup_id
    JOIN staff st ON st.id = t.staff_id AND st.left_at IS NULL
    WHERE c.grade = ANY(CAST(:grades AS int[]))
    """
)

# Every term and year of the school's years in which some period ends within the window:
# which of them a class follows depends on its grade and on the kinds its year has.
_PERIODS = text(
    """
    SELECT p.id, p.academic_year_id, p.kind, p.number, p.starts_on, p.ends_on,
           p.ends_on BETWEEN :since AND :until AS ending
    FROM periods p JOIN academic_years y ON y.id = p.academic_year_id
    WHERE y.school_id = :school AND p.kind IN ('quarter', 'trimester', 'half_year', 'year')
      AND EXISTS (SELECT 1 FROM periods q WHERE q.academic_year_id = y.id
                  AND q.ends_on BETWEEN :since AND :until)
    """
)


def _label(grade: int, letter: str) -> str:
    return f"{grade}{letter}"


async def school_gaps(
    connection: AsyncConnection, school: SchoolRules, now: datetime, *, since: date | None = None
) -> list[Gap]:
    """Every gap of one school whose lesson lies in the last `LOOKBACK_DAYS` days (or from
    `since`, for a report of a longer period asked for on demand)."""
    local = now.astimezone(school.zone)
    local_today = local.date()
    profile = school.profile
    gaps: list[Gap] = []
    rows = await connection.execute(
        _LESSON_GAPS,
        {
            "school": school.id,
            "since": since if since is not None else local_today - timedelta(days=LOOKBACK_DAYS),
            "until": local_today,
            "local_time": local.time().replace(tzinfo=None),
        },
    )
    for row in rows:
        (lesson, school_id, staff, day, slot, ends_at, grade, letter, subgroup, subject) = row[:10]
        class_id = row[10]
        no_topic, no_attendance, no_homework, code, is_control, monitoring = row[11:17]
        unmarked, day_ends, shift_ends = row[17:]
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

        # A rule the profile leaves unstated (None) is reminded of only once the school sets it.
        if no_topic and profile.topic_due:
            gaps.append(gap(Category.TOPIC, profile.topic_due.at(day, ends_at, school.zone)))
        if no_attendance and profile.attendance_due:
            gaps.append(
                gap(Category.ATTENDANCE, profile.attendance_due.at(day, ends_at, school.zone))
            )
        if no_homework and profile.homework_due and grade >= profile.homework_from_grade:
            # "В течение 1.5 часа после окончания занятий в данной конкретной группе"
            # (seed 002 §2.7): hours count from the class's last lesson of the day; seed 000
            # §5.5 from the last lesson of the class's shift.
            due = profile.homework_due.at(day, day_ends, school.zone, shift_ends=shift_ends)
            gaps.append(gap(Category.HOMEWORK, due))
        rule = marking_rule(
            profile, code, subject, grade, control=is_control, monitoring=monitoring
        )
        if rule and unmarked and grade >= profile.marks_from_grade:
            gaps.append(gap(Category.MARKS, rule.at(day, ends_at, school.zone), unmarked))
    gaps.extend(await _final_gaps(connection, school, local_today))
    gaps.extend(await _forbidden_gaps(connection, school, local_today, now))
    return gaps


def marking_rule(
    profile: Profile,
    code: str | None,
    subject: str,
    grade: int,
    *,
    control: bool,
    monitoring: bool,
) -> Due | None:
    """The deadline for marking a planned work of kind `code` (None: not written work):
    internal monitoring (seed 002 §2.11), control, written, or the senior essay in Russian and
    literature (seed 000 §5.3)."""
    if code is None:
        return None
    if senior_essay(code, subject, grade):
        return profile.essay_senior_due
    if monitoring:
        return profile.monitoring_due
    return profile.control_due if control else profile.written_due


async def _final_gaps(connection: AsyncConnection, school: SchoolRules, today: date) -> list[Gap]:
    profile = school.profile
    if profile.finals_days is None:
        return []  # no deadline stated (seed 000): none reminded until the school sets one
    # Periods whose final grades fall due from the warning window on, or were due lately.
    since = today - timedelta(days=LOOKBACK_DAYS) - timedelta(days=profile.finals_days)
    until = today + timedelta(days=profile.finals_warn_days) - timedelta(days=profile.finals_days)
    periods = await connection.execute(
        _PERIODS, {"school": school.id, "since": since, "until": until}
    )
    terms: dict[int, list[PeriodRef]] = defaultdict(list)
    ending: list[tuple[int, PeriodRef]] = []
    for period, year, kind, number, starts_on, ends_on, soon in periods.all():
        ref = PeriodRef(period, kind, number, starts_on, ends_on)
        terms[year].append(ref)
        if soon:
            ending.append((year, ref))
    gaps: list[Gap] = []
    for year, ref in ending:
        period, kind, number, ends_on = ref.id, ref.kind, ref.number, ref.ends_on
        # Each class by its own grade's periods (seed 004 §5.1–5.2: grade 7 a quarter, grade
        # 10 a half-year); the year's grades are every class's.
        grades = [
            grade
            for grade in range(profile.marks_from_grade, 12)
            if kind == "year" or ref in class_terms(profile, grade, terms[year])
        ]
        if not grades:
            continue
        due_day = ends_on + timedelta(days=profile.finals_days)
        due = datetime.combine(due_day + timedelta(days=1), time(0), school.zone)
        rows = await connection.execute(
            _FINAL_GAPS,
            {
                "period": period,
                "year": year,
                "grades": grades,
                "allowed": _specials(profile, kind),
            },
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


def _specials(profile: Profile, kind: str) -> list[str]:
    """The special marks that count as a set final grade of this kind of period."""
    return sorted(v for v in SPECIAL_MARKS if profile.allows(v, grade=None, period_kind=kind))


async def _forbidden_gaps(
    connection: AsyncConnection, school: SchoolRules, today: date, now: datetime
) -> list[Gap]:
    """Marks and final grades against the profile (services/forbidden.py), for the teacher who
    wrote them: due since they were written, so the next reminder and the deputy tell them."""
    found = await forbidden.entries(
        connection,
        school.id,
        school.profile,
        since=today - timedelta(days=LOOKBACK_DAYS),
        until=today,
        written_since=now - timedelta(days=LOOKBACK_DAYS),
    )
    return [
        Gap(
            Category.FORBIDDEN,
            e.staff_id,
            school.id,
            e.class_label,
            e.subject,
            e.day,
            e.slot,
            min(e.written_at, now),
            e.count,
            e.ref,
            e.subgroup,
            e.period,
            class_id=e.class_id,
            value=e.value,
        )
        for e in found
    ]
