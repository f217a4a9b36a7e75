"""The demo's people and the journal events an evaluator can make happen (SPEC §6).

Events are written with plain SQL as the school's journal would write them, so everything
downstream (change capture, notifications, reminders) runs exactly as in production.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services import linking
from services.db.session import create_sessionmaker
from services.journal.school import PeriodRef, class_terms
from services.linking import PersonId, PersonKind
from services.profiles import Profile, profile_for


class Role(enum.StrEnum):
    PARENT = "parent"
    STUDENT = "student"
    TEACHER = "teacher"
    CLASS_TEACHER = "class-teacher"
    DEPUTY = "deputy"


# Telegram ids of the demo's people in the offline chat.
ACCOUNTS = {
    Role.PARENT: 7_000_001,
    Role.STUDENT: 7_000_002,
    Role.TEACHER: 7_000_003,
    Role.CLASS_TEACHER: 7_000_004,
    Role.DEPUTY: 7_000_005,
}


class NotDemo(Exception):
    """The database is not the demo's: the demo refuses to touch it."""


@dataclass(frozen=True, slots=True)
class Cast:
    """Who the evaluator can be: people of the first school of the demo."""

    school_id: int
    guardian_id: int  # a parent of two children
    child_ids: tuple[int, ...]
    student_id: int
    teacher_id: int  # teaches the first child's class; a class teacher of none
    class_teacher_id: int
    deputy_id: int

    def person(self, role: Role) -> PersonId:
        if role is Role.PARENT:
            return PersonId(PersonKind.GUARDIAN, self.guardian_id)
        if role is Role.STUDENT:
            return PersonId(PersonKind.STUDENT, self.student_id)
        staff = {
            Role.TEACHER: self.teacher_id,
            Role.CLASS_TEACHER: self.class_teacher_id,
            Role.DEPUTY: self.deputy_id,
        }[role]
        return PersonId(PersonKind.STAFF, staff)


_CAST = text(
    """
    WITH family AS (
        SELECT g.guardian_id, array_agg(g.student_id ORDER BY g.student_id) AS children
        FROM guardianships g
        JOIN students s ON s.id = g.student_id AND s.left_at IS NULL AND s.school_id = :school
        JOIN classes c ON c.id = s.class_id
        GROUP BY g.guardian_id
        HAVING count(*) = 2 AND bool_and(c.grade > 1) AND bool_and(EXISTS (
            SELECT 1 FROM consents k WHERE k.student_id = s.id AND k.revoked_at IS NULL))
        ORDER BY g.guardian_id LIMIT 1
    )
    SELECT f.guardian_id, f.children,
           (SELECT s.id FROM students s JOIN classes c ON c.id = s.class_id
            WHERE s.school_id = :school AND c.grade >= 5 AND s.left_at IS NULL
              AND NOT (s.id = ANY(f.children)) ORDER BY s.id LIMIT 1) AS student,
           -- a subject teacher of the first child's class who is nobody's class teacher
           (SELECT t.staff_id FROM teaching_assignments t
            JOIN students s ON s.class_id = t.class_id AND s.id = f.children[1]
            WHERE NOT EXISTS (SELECT 1 FROM staff_roles r WHERE r.staff_id = t.staff_id
                              AND r.role IN ('class_teacher', 'deputy_director'))
            ORDER BY t.subgroup_id NULLS FIRST, t.id LIMIT 1) AS teacher,
           (SELECT r.staff_id FROM staff_roles r
            JOIN students s ON s.class_id = r.class_id AND s.id = f.children[1]
            WHERE r.role = 'class_teacher') AS class_teacher,
           (SELECT r.staff_id FROM staff_roles r JOIN staff st ON st.id = r.staff_id
            WHERE r.role = 'deputy_director' AND st.school_id = :school
            ORDER BY r.id LIMIT 1) AS deputy
    FROM family f
    """
)


async def cast(engine: AsyncEngine) -> Cast:
    """The demo's people, found again in whatever demo school the database holds."""
    async with engine.connect() as connection:
        real = (
            await connection.execute(
                text("SELECT count(*) FROM schools WHERE NOT coalesce(overrides ? 'demo', false)")
            )
        ).scalar_one()
        if real:
            # Fake accounts, fake marks and a fake clock have no place in a real journal.
            raise NotDemo(
                "the database holds a real school's journal; the demo runs only on a database "
                "of its own (unset DATABASE_URL, or `journalbot seed-demo` into an empty one)"
            )
        school = (await connection.execute(text("SELECT min(id) FROM schools"))).scalar()
        if school is None:
            raise LookupError("the database has no school")
        row = (await connection.execute(_CAST, {"school": school})).first()
    if row is None or None in row:
        raise LookupError("the demo school has no parent of two children with a full cast")
    guardian, children, student, teacher, class_teacher, deputy = row
    return Cast(school, guardian, tuple(children), student, teacher, class_teacher, deputy)


async def selected_child(engine: AsyncEngine, user_id: int, children: tuple[int, ...]) -> int:
    """The child a parent's Telegram account has on screen (the bot remembers it per account),
    or the first of `children` when it has none of them."""
    async with engine.connect() as connection:
        chosen = (
            await connection.execute(
                text(
                    "SELECT selected_student_id FROM accounts"
                    " WHERE channel = 'telegram' AND channel_user_id = :u"
                ),
                {"u": user_id},
            )
        ).scalar()
    return int(chosen) if chosen in children else children[0]


async def school_zone(engine: AsyncEngine, school_id: int, default_zone: str) -> ZoneInfo:
    """The school's time zone, or the default one when it names none."""
    async with engine.connect() as connection:
        name = (
            await connection.execute(
                text("SELECT timezone FROM schools WHERE id = :s"), {"s": school_id}
            )
        ).scalar()
    return ZoneInfo(name or default_zone)


async def next_school_day(
    engine: AsyncEngine, school_id: int, day: date, *, staff_id: int | None = None
) -> date:
    """The first day from `day` on with lessons the member of staff `staff_id` teaches or
    takes (their reminders are of those), else with lessons at the school; `day` itself when
    none is left."""
    async with engine.connect() as connection:
        found = (
            await connection.execute(
                text(
                    """
                    SELECT coalesce(
                      min(date) FILTER (WHERE CAST(:staff AS bigint)
                                        IN (teacher_id, substitute_teacher_id)),
                      min(date))
                    FROM lessons WHERE school_id = :s AND date >= :d
                    """
                ),
                {"s": school_id, "d": day, "staff": staff_id},
            )
        ).scalar()
    return found or day


async def link_code(engine: AsyncEngine, person: PersonId, secret: bytes) -> str:
    """A fresh one-time code for the person (any earlier unused one is cancelled)."""
    async with create_sessionmaker(engine)() as session:
        [issued] = await linking.issue(session, person, secret=secret, now=datetime.now(UTC))
        await session.commit()
    return issued.code


async def quiet_hours_off(engine: AsyncEngine, user_id: int) -> None:
    """The demo shows pushes at once whatever the hour; /settings can set quiet hours."""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE accounts SET quiet_from = '00:00', quiet_to = '00:00'"
                " WHERE channel = 'telegram' AND channel_user_id = :u"
            ),
            {"u": user_id},
        )


# The latest lesson of the student that has begun by the demo's clock (`:today` at `:at`);
# with `:only_today`, of that day only.
_LESSON = text(
    """
    SELECT l.id, l.subject_id, l.teacher_id, sub.name FROM lessons l
    JOIN students s ON s.id = :student AND s.class_id = l.class_id
    JOIN subjects sub ON sub.id = l.subject_id
    WHERE (l.date < :today OR (l.date = :today AND coalesce(l.starts_at, '00:00') <= :at))
      AND (NOT :only_today OR l.date = :today)
      AND (l.subgroup_id IS NULL OR EXISTS (SELECT 1 FROM subgroup_members m
           WHERE m.subgroup_id = l.subgroup_id AND m.student_id = s.id))
      AND (CAST(:subject AS text) IS NULL OR sub.name ILIKE CAST(:subject AS text) || '%')
    ORDER BY l.date DESC, l.slot DESC LIMIT 1
    """
)

# When the student's first lesson of the day begins (None: no lesson that day).
_FIRST_START = text(
    """
    SELECT min(l.starts_at) FROM lessons l
    JOIN students s ON s.id = :student AND s.class_id = l.class_id
    WHERE l.date = :today
      AND (l.subgroup_id IS NULL OR EXISTS (SELECT 1 FROM subgroup_members m
           WHERE m.subgroup_id = l.subgroup_id AND m.student_id = s.id))
    """
)


class NotBegun(LookupError):
    """No lesson of the student has begun yet today: an absence has nothing to be from."""

    def __init__(self, first: time | None) -> None:
        super().__init__("lesson")
        self.first = first  # when the day's first lesson begins; None: no lesson today


@dataclass(frozen=True, slots=True)
class Event:
    """What was written, for the chat to say."""

    student: str
    subject: str
    detail: str


async def _student_name(connection: AsyncConnection, student_id: int) -> str:
    row = (
        await connection.execute(
            text("SELECT first_name || ' ' || last_name FROM students WHERE id = :s"),
            {"s": student_id},
        )
    ).scalar_one()
    return str(row)


async def _latest_lesson(
    connection: AsyncConnection,
    student_id: int,
    now: datetime,
    subject: str | None,
    *,
    only_today: bool = False,
) -> tuple[int, int, int, str]:
    """(lesson id, subject id, teacher id, subject name) of the latest lesson begun by `now`
    (the school's local time); LookupError naming what is missing, NotBegun when `only_today`
    and none has begun today."""
    values = {
        "student": student_id,
        "today": now.date(),
        "at": now.time().replace(tzinfo=None),
        "subject": subject,
        "only_today": only_today,
    }
    lesson = (await connection.execute(_LESSON, values)).first()
    if lesson is None:
        if only_today:
            first = (
                await connection.execute(
                    _FIRST_START, {"student": student_id, "today": now.date()}
                )
            ).scalar()
            raise NotBegun(first)
        raise LookupError(subject or "lesson")
    return (int(lesson[0]), int(lesson[1]), int(lesson[2]), str(lesson[3]))


# Each written as the lesson's teacher would: :s the student, :l the lesson, :t the teacher.
_ADD_MARK = text(
    "INSERT INTO marks (student_id, lesson_id, value, author_id) VALUES (:s, :l, :v, :t)"
)
_ADD_ABSENCE = text(
    "INSERT INTO attendance (student_id, lesson_id, kind, reason, is_valid, author_id)"
    " VALUES (:s, :l, 'absent', 'unknown', false, :t)"
    " ON CONFLICT (student_id, lesson_id) DO UPDATE SET kind = 'absent',"
    " minutes_late = NULL, updated_at = now()"
)


async def _at_latest_lesson(
    engine: AsyncEngine,
    student_id: int,
    now: datetime,
    subject: str | None,
    *,
    statement: TextClause,
    values: dict[str, str],
    told: str,
    only_today: bool = False,
) -> Event:
    """Write `statement` for the student's latest lesson begun by `now` (local time); the
    event the sandbox tells."""
    async with engine.begin() as connection:
        lesson_id, _, teacher_id, subject_name = await _latest_lesson(
            connection, student_id, now, subject, only_today=only_today
        )
        await connection.execute(
            statement, {"s": student_id, "l": lesson_id, "t": teacher_id, **values}
        )
        return Event(await _student_name(connection, student_id), subject_name, told)


async def add_mark(
    engine: AsyncEngine, student_id: int, value: str, subject: str | None, now: datetime
) -> Event:
    """A mark for the student's latest lesson begun by `now` (the school's local time),
    written as the lesson's teacher would."""
    return await _at_latest_lesson(
        engine,
        student_id,
        now,
        subject,
        statement=_ADD_MARK,
        values={"v": value},
        told=value,
    )


async def add_absence(engine: AsyncEngine, student_id: int, now: datetime) -> Event:
    """The student marked absent (reason unknown) at today's latest lesson that has begun by
    `now` (the school's local time): NotBegun when none has."""
    return await _at_latest_lesson(
        engine,
        student_id,
        now,
        None,
        statement=_ADD_ABSENCE,
        values={},
        told="absent",
        only_today=True,
    )


async def add_finals(engine: AsyncEngine, student_id: int, today: date) -> Event:
    """Final grades of the current period, from the weighted averages, in every subject with
    marks and no final grade yet: one statement, as a period's end is entered (one message
    per child follows)."""
    async with engine.begin() as connection:
        period = await _class_term(connection, student_id, today)
        result = await connection.execute(
            text(
                """
                INSERT INTO final_grades (student_id, subject_id, period_id, value, author_id)
                SELECT :s, l.subject_id, p.id,
                       -- the weighted average rounded half up, as the forecast shows it
                       CAST(floor(sum(CAST(mk.value AS numeric)
                                      * coalesce(mk.weight, wk.weight, 1))
                                  / sum(coalesce(mk.weight, wk.weight, 1)) + 0.5) AS int),
                       min(l.teacher_id)
                FROM students s
                JOIN periods p ON p.id = :period
                JOIN lessons l ON l.class_id = s.class_id
                              AND l.date BETWEEN p.starts_on AND p.ends_on
                JOIN current_marks mk ON mk.lesson_id = l.id AND mk.student_id = s.id
                                     AND mk.value IN ('1', '2', '3', '4', '5')
                LEFT JOIN work_kinds wk ON wk.id = mk.work_kind_id
                WHERE s.id = :s
                  AND NOT EXISTS (SELECT 1 FROM final_grades f WHERE f.student_id = s.id
                                  AND f.subject_id = l.subject_id AND f.period_id = p.id)
                GROUP BY l.subject_id, p.id
                """
            ),
            {"s": student_id, "period": period},
        )
        name = await _student_name(connection, student_id)
    return Event(name, "", str(result.rowcount))


async def _class_terms(
    connection: AsyncConnection, student_id: int
) -> tuple[Profile, tuple[PeriodRef, ...]] | None:
    """The school's profile and the terms the student's class follows (seed 004 §5.1–5.2: a
    quarter in grade 7, a half-year in grade 10)."""
    rows = (
        await connection.execute(
            text(
                """
                SELECT sc.profile, sc.overrides, c.grade,
                       p.id, p.kind, p.number, p.starts_on, p.ends_on
                FROM students s
                JOIN schools sc ON sc.id = s.school_id
                JOIN classes c ON c.id = s.class_id
                JOIN periods p ON p.academic_year_id = c.academic_year_id
                WHERE s.id = :s
                """
            ),
            {"s": student_id},
        )
    ).all()
    if not rows:
        return None
    profile = profile_for(rows[0].profile, rows[0].overrides)
    return profile, class_terms(profile, rows[0].grade, [PeriodRef(*row[3:]) for row in rows])


async def _class_term(connection: AsyncConnection, student_id: int, today: date) -> int | None:
    """The term holding `today` among those the student's class follows."""
    found = await _class_terms(connection, student_id)
    terms = found[1] if found is not None else ()
    return next((t.id for t in terms if t.holds(today)), None)


async def period_end(
    engine: AsyncEngine, student_id: int, now: datetime, zone: ZoneInfo
) -> tuple[PeriodRef, datetime] | None:
    """The next term of the student's class whose final grades fall due after `now`, and the
    morning after they do (09:00 in the school's zone, past its morning summary), when the
    period's documents go out (services/period_documents.py); None after the year's last."""
    async with engine.connect() as connection:
        found = await _class_terms(connection, student_id)
    if found is None:
        return None
    profile, terms = found
    for term in terms:
        due = term.ends_on + timedelta(days=(profile.finals_days or 0) + 1)
        morning = datetime.combine(due, time(9), zone)
        if morning > now:
            return term, morning
    return None


async def pending_for(engine: AsyncEngine, user_ids: list[int]) -> int:
    """Messages for these Telegram users still waiting in the queue: the demo's clock waits
    for them to go before it tells what arrived. `release_now` has made them all due; one the
    chat's rate limit put off a second (a second message to the same chat) waits too."""
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM notifications n JOIN accounts a"
                        " ON a.id = n.account_id AND a.channel = 'telegram'"
                        " AND a.channel_user_id = ANY(:users)"
                        " WHERE n.status = 'pending'"
                    ),
                    {"users": user_ids},
                )
            ).scalar_one()
        )


async def release_now(engine: AsyncEngine, user_ids: list[int]) -> None:
    """The demo's clock ran ahead of the real one: what it queued for later for these Telegram
    users goes now."""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE notifications SET not_before = clock_timestamp()"
                " WHERE status = 'pending' AND not_before > clock_timestamp()"
                " AND account_id IN (SELECT id FROM accounts WHERE channel = 'telegram'"
                " AND channel_user_id = ANY(:users))"
            ),
            {"users": user_ids},
        )
        await connection.execute(text("NOTIFY notifications"))
