"""The class teacher's duties that the school's profile asks for: the daily attendance check
(seed 001 §4.2.3 "ежедневно") and the alert of too few marks before a period ends (seed 003
§8.4, seed 004 §5.2 "необходимую накопляемость"), to the subject teacher too. Facts are
gathered when the run happens and queued as the message's payload; the text is made when it is
sent, in the recipient's language."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.gaps import SchoolRules
from services.journal.school import PeriodRef, class_terms
from services.notifications.payloads import ClassDay, DayAbsence, FewMarks, FewMarksSubject
from services.reminders import staff_readers
from services.reports import CLASS_PERIODS, class_teacher_readers, queue_for

# The day's absences and lateness of the class, lesson by lesson.
_DAY_ABSENCES = text(
    """
    SELECT s.id, s.last_name, s.first_name, a.kind, a.reason, a.is_valid, l.slot
    FROM attendance a
    JOIN lessons l ON l.id = a.lesson_id AND l.class_id = :class AND l.date = :day
    JOIN students s ON s.id = a.student_id
    ORDER BY s.last_name, s.first_name, s.id, l.slot
    """
)

# The day's lessons of the class whose attendance nobody has taken.
_UNTAKEN = text(
    """
    SELECT l.slot, sub.name
    FROM lessons l JOIN subjects sub ON sub.id = l.subject_id
    WHERE l.class_id = :class AND l.date = :day AND l.attendance_taken_at IS NULL
    ORDER BY l.slot, sub.name
    """
)

_HAS_LESSONS = text(
    "SELECT EXISTS (SELECT 1 FROM lessons WHERE class_id = :class AND date = :day)"
)


async def class_day(
    connection: AsyncConnection, *, class_id: int, day: date, label: str = ""
) -> ClassDay:
    """The class `label`'s attendance on `day` as a payload for its class teacher (the access
    rule is services.access.class_teacher_accounts, checked again when sent)."""
    grouped: dict[tuple[int, str, bool, str, bool], list[int]] = defaultdict(list)
    names: dict[int, str] = {}
    params = {"class": class_id, "day": day}
    for student, last, first, kind, reason, valid, slot in await connection.execute(
        _DAY_ABSENCES, params
    ):
        names[student] = f"{last} {first}"
        grouped[(student, names[student], kind == "late", reason, bool(valid))].append(slot)
    return ClassDay(
        day=day,
        class_id=class_id,
        class_label=label,
        absences=tuple(
            DayAbsence(name=name, late=late, slots=tuple(slots), reason=reason, valid=valid)
            for (_, name, late, reason, valid), slots in grouped.items()
        ),
        untaken=tuple(
            (slot, subject) for slot, subject in await connection.execute(_UNTAKEN, params)
        ),
    )


async def queue_daily_attendance(
    connection: AsyncConnection, school: SchoolRules, now: datetime
) -> int:
    """Queue the day's attendance summary to each class teacher of the school whose class had
    lessons today (seed 001 §4.2.3), once per class and day, after their quiet hours."""
    today = now.astimezone(school.zone).date()
    queued = 0
    for class_id, grade, letter, account, chat, quiet_from, quiet_to, zone in (
        await connection.execute(class_teacher_readers(school.id, today))
    ).all():
        params = {"class": class_id, "day": today}
        if not (await connection.execute(_HAS_LESSONS, params)).scalar_one():
            continue  # no lessons: weekends and holidays
        payload = await class_day(
            connection, class_id=class_id, day=today, label=f"{grade}{letter}"
        )
        reader = (account, chat, quiet_from, quiet_to, zone)
        key = f"class_day:{class_id}:{today.isoformat()}"
        queued += await queue_for(connection, reader, key, payload, school=school, now=now)
    return queued


# --- too few marks before the period ends ---------------------------------------------------

# Per (subject teacher, subject) of the class's lessons in the period, each student they teach
# (a subgroup's lesson: its members) and the numeric marks they have in it so far.
_MARKS_SO_FAR = text(
    """
    WITH taught AS (
        SELECT DISTINCT l.teacher_id, l.subject_id, s.id AS student_id
        FROM lessons l
        JOIN students s ON s.class_id = l.class_id AND s.left_at IS NULL
        WHERE l.class_id = :class AND l.date BETWEEN :start AND :end
          AND (l.subgroup_id IS NULL OR EXISTS (
                SELECT 1 FROM subgroup_members g
                WHERE g.subgroup_id = l.subgroup_id AND g.student_id = s.id))
    )
    SELECT t.teacher_id, concat_ws(' ', tr.last_name, tr.first_name, tr.middle_name),
           sub.name, st.last_name || ' ' || st.first_name,
           (SELECT count(*) FROM current_marks mk JOIN lessons ml ON ml.id = mk.lesson_id
            WHERE mk.student_id = t.student_id AND ml.class_id = :class
              AND ml.subject_id = t.subject_id AND ml.date BETWEEN :start AND :end
              AND mk.value IN ('1', '2', '3', '4', '5')) AS marks
    FROM taught t
    JOIN subjects sub ON sub.id = t.subject_id
    JOIN students st ON st.id = t.student_id
    JOIN staff tr ON tr.id = t.teacher_id
    ORDER BY sub.name, t.teacher_id, st.last_name, st.first_name
    """
)


async def queue_few_marks(connection: AsyncConnection, school: SchoolRules, now: datetime) -> int:
    """From `few_marks_alert_days` before each class's period ends (its own, class_terms) to
    its last day, queue once per period: to each subject teacher the students of theirs with
    fewer than `min_marks` numeric marks in it (teachers who muted marks reminders are spared),
    and all of them to the class teacher (services.access rules, checked again when sent)."""
    days, least = school.profile.few_marks_alert_days, school.profile.min_marks
    if days is None:
        return 0
    today = now.astimezone(school.zone).date()
    queued = 0
    for class_id, grade, letter, *reader in (
        await connection.execute(class_teacher_readers(school.id, today))
    ).all():
        if grade < school.profile.marks_from_grade:
            continue  # no marks at all (seed 001 §4.3.6)
        rows = (await connection.execute(CLASS_PERIODS, {"class": class_id})).all()
        terms = class_terms(school.profile, grade, [PeriodRef(*r[1:]) for r in rows])
        term = next((t for t in terms if t.ends_on - timedelta(days) <= today <= t.ends_on), None)
        if term is None:
            continue
        short: dict[tuple[int, str, str], list[tuple[str, int]]] = defaultdict(list)
        for staff, teacher, subject, student, marks in await connection.execute(
            _MARKS_SO_FAR, {"class": class_id, "start": term.starts_on, "end": term.ends_on}
        ):
            if marks < least:
                short[(staff, teacher, subject)].append((student, marks))
        if not short:
            continue
        alert = FewMarks(
            class_id=class_id,
            class_label=f"{grade}{letter}",
            ends_on=term.ends_on,
            min_marks=least,
            subjects=_subjects(short),
        )
        key = f"few_marks:{class_id}:{term.id}"
        queued += await queue_for(connection, tuple(reader), key, alert, school=school, now=now)
        for staff, account, chat, quiet_from, quiet_to, zone, muted in (
            await connection.execute(staff_readers(sorted({who for who, _, _ in short}), now))
        ).all():
            if "marks" in muted or account == reader[0]:
                # The teacher's own choice (services/reminders.py mutes); a class teacher who
                # teaches the class has it all in the summary just queued.
                continue
            queued += await queue_for(
                connection,
                (account, chat, quiet_from, quiet_to, zone),
                f"{key}:{staff}",
                alert.model_copy(update={"staff_id": staff, "subjects": _subjects(short, staff)}),
                school=school,
                now=now,
            )
    return queued


def _subjects(
    short: dict[tuple[int, str, str], list[tuple[str, int]]], staff: int | None = None
) -> tuple[FewMarksSubject, ...]:
    """The subjects short of marks: all of them, or those of one teacher."""
    return tuple(
        FewMarksSubject(subject=subject, teacher=teacher, students=tuple(students))
        for (who, teacher, subject), students in short.items()
        if staff is None or who == staff
    )
