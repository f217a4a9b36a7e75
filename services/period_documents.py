"""Period-end documents (seed 004 §3.3.6, §7.2, §4.6.4; seed 003 §5.9, §7.9; seed 002 §2.14):
once a period's final grades are due, its class teacher gets the class's summary sheet as XLSX
and PDF, the deputy the school's sheet, and each family the pupil's report card.

The moment is the profile's `finals_days` after the period's last day (None, not stated: the
last day itself), at midnight in the school's zone, for each class's own kind of period
(`class_terms`). Each class and period is claimed once in `scheduler_runs` (job
`period_sheet`, key `class:period`) in the transaction that queues its messages, so a sheet
goes once whatever the number of runs. Facts are gathered by the archive's own reader and
summary (services/archive/reading.py, records.py) and queued; the files are written when sent.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import CompoundSelect, and_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services import access
from services.archive import records as r
from services.archive.reading import read_class_year
from services.archive.target import ClassRef, Target
from services.db import models as m
from services.gaps import SchoolRules
from services.journal.school import PeriodRef, class_terms
from services.notifications.fanout import after_quiet_hours
from services.notifications.payloads import (
    ClassPeriodSheet,
    ClassResults,
    LeaverReport,
    PeriodReportCard,
    SchoolPeriodSheet,
    SheetPupil,
)
from services.profiles import Profile
from services.reports import CLASS_PERIODS, class_teacher_readers, deputy_readers, queue_for

SHEET_JOB = "period_sheet"
# A period whose documents fell due longer ago than this is not sent late: a school that
# starts using the bot mid-year gets no sheets of terms long closed.
RECENT = timedelta(days=14)

# An account's chat and quiet hours, as services/reports.py reads them.
Reader = tuple[int, int, time, time, str | None]

# The school's classes of the academic year `today` is in, by grade and letter.
_CLASSES = text(
    """
    SELECT c.id FROM classes c JOIN academic_years y ON y.id = c.academic_year_id
    WHERE c.school_id = :school AND y.starts_on <= :today AND y.ends_on >= :today
    ORDER BY c.grade, c.letter
    """
)

_CLAIM = text(
    "INSERT INTO scheduler_runs (job, run_key, done_at) VALUES (:job, :key, :now)"
    " ON CONFLICT DO NOTHING RETURNING job"
)


def finals_due(profile: Profile, period: PeriodRef, school: SchoolRules) -> datetime:
    """When the period's final grades are due: the end of its last day moved by the profile's
    `finals_days` (seed 004 §5.4, seed 001 §5.3, seed 002 §2.13); not stated: its last day."""
    last = period.ends_on + timedelta(days=profile.finals_days or 0)
    return datetime.combine(last + timedelta(days=1), time(0), school.zone)


def due_periods(
    school: SchoolRules, terms: tuple[PeriodRef, ...], now: datetime
) -> list[PeriodRef]:
    """The class's periods whose final grades fell due in the last `RECENT` days."""
    due = [(finals_due(school.profile, term, school), term) for term in terms]
    return [term for moment, term in due if moment <= now < moment + RECENT]


async def _target(session: AsyncSession, class_id: int) -> tuple[Target, ClassRef]:
    school, year, klass = m.School, m.AcademicYear, m.SchoolClass
    row = (
        await session.execute(
            select(
                school.id,
                school.name,
                school.timezone,
                year.id,
                year.starts_on,
                year.ends_on,
                klass.grade,
                klass.letter,
            )
            .join(year, year.school_id == school.id)
            .join(klass, klass.academic_year_id == year.id)
            .where(klass.id == class_id)
        )
    ).one()
    ref = ClassRef(class_id, row.grade, row.letter)
    label = f"{row.starts_on.year}/{row.ends_on.year % 100:02d}"
    target = Target(
        row[0], row[1], row.timezone, row[3], label, row.starts_on, row.ends_on, (ref,)
    )
    return target, ref


def period_summary(year: r.ClassYear, period: PeriodRef) -> r.Summary:
    """The archive's summary sheet (records.summarize) of one period: its grades, and the
    absences of its lessons."""
    lessons = {
        lesson.id for lesson in year.lessons if period.starts_on <= lesson.day <= period.ends_on
    }
    own = r.Period(period.id, period.kind, period.number, period.starts_on, period.ends_on)
    one = dataclasses.replace(
        year,
        periods=(own,),
        finals=tuple(f for f in year.finals if f.period_id == period.id),
        absences=tuple(a for a in year.absences if a.lesson_id in lessons),
    )
    return dataclasses.replace(r.summarize(one), periods=(own,))


async def class_sheet(
    connection: AsyncConnection,
    school: SchoolRules,
    class_id: int,
    period: PeriodRef,
    now: datetime,
) -> ClassPeriodSheet:
    """The class's summary sheet of the period as a payload. For the class teacher."""
    # The archive's reader (services/archive/reading.py) on this run's own transaction.
    async with AsyncSession(bind=connection) as session:
        target, ref = await _target(session, class_id)
        year = await read_class_year(session, target, ref)
    summary = period_summary(year, period)
    return ClassPeriodSheet(
        class_id=class_id,
        class_label=ref.label,
        school=target.school,
        year=target.year,
        zone=school.zone.key,
        written=now,
        period_id=period.id,
        period_kind=period.kind,
        period_number=period.number,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        class_teacher=year.class_teacher,
        subjects=tuple(s.name for s in year.subjects),
        pupils=tuple(
            SheetPupil(
                name=row.pupil.name,
                grades=tuple(row.grades.get((s.id, period.id)) for s in year.subjects),
                absent=row.absent,
                absent_valid=row.absent_valid,
                late=row.late,
                failing=row.failing,
                not_attested=row.not_attested,
            )
            for row in summary.rows
        ),
    )


def class_results(sheet: ClassPeriodSheet) -> ClassResults:
    """A class's line of the school's sheet (seed 004 §7.2): of the pupils with a grade of the
    period, the share with only 4s and 5s (passes and exemptions aside: quality) and the share
    with no failing grade and no н/а (success); and how many failed or were not attested."""
    graded = [p for p in sheet.pupils if any(g is not None for g in p.grades)]
    succeeded = [p for p in graded if not p.failing and not p.not_attested]
    good = [
        p
        for p in succeeded
        if all(g in {"4", "5"} for g in p.grades if g is not None and g.isdigit())
    ]
    return ClassResults(
        class_label=sheet.class_label,
        pupils=len(graded),
        quality=_share(len(good), len(graded)),
        success=_share(len(succeeded), len(graded)),
        failing=sum(1 for p in sheet.pupils if p.failing),
        not_attested=sum(1 for p in sheet.pupils if p.not_attested),
    )


def _share(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


async def queue_period_documents(
    connection: AsyncConnection, school: SchoolRules, now: datetime
) -> int:
    """Queue, once per class and period whose final grades have fallen due, the class's
    summary sheet (XLSX and PDF) to its class teachers, and once per period the school's
    sheet (XLSX) to its deputies (services.access)."""
    today = now.astimezone(school.zone).date()
    readers: dict[int, list[Reader]] = defaultdict(list)
    for class_id, _grade, _letter, *found in (
        await connection.execute(class_teacher_readers(school.id, today))
    ).all():
        readers[class_id].append((found[0], found[1], found[2], found[3], found[4]))
    queued = 0
    due: dict[int, tuple[PeriodRef, list[int]]] = {}
    # Each class's sheet is read once (the archive's reader reads its whole year).
    sheets: dict[tuple[int, int], ClassPeriodSheet] = {}
    for class_id in (
        await connection.execute(_CLASSES, {"school": school.id, "today": today})
    ).scalars():
        rows = (await connection.execute(CLASS_PERIODS, {"class": class_id})).all()
        terms = class_terms(
            school.profile, rows[0][0] if rows else None, [PeriodRef(*row[1:]) for row in rows]
        )
        for period in due_periods(school, terms, now):
            due.setdefault(period.id, (period, []))[1].append(class_id)
            if await _claim(connection, f"cards:{class_id}:{period.id}", now):
                queued += await queue_report_cards(connection, school, class_id, period, now)
            if not readers[class_id] or not await _claim(
                connection, f"{class_id}:{period.id}", now
            ):
                continue  # no class teacher linked, or sent already (here or elsewhere)
            sheet = await class_sheet(connection, school, class_id, period, now)
            sheets[class_id, period.id] = sheet
            for document in ("xlsx", "pdf"):
                payload = sheet.model_copy(update={"document": document})
                key = f"class_period_sheet:{class_id}:{period.id}:{document}"
                for reader in readers[class_id]:
                    queued += await queue_for(
                        connection, reader, key, payload, school=school, now=now
                    )
    queued += await queue_leaver_reports(connection, school, now)
    deputies = [tuple(row) for row in (await connection.execute(deputy_readers(school.id))).all()]
    for period, classes in due.values():
        if not deputies or not await _claim(connection, f"school:{school.id}:{period.id}", now):
            continue
        lines = []
        for class_id in classes:
            if (class_id, period.id) not in sheets:
                sheets[class_id, period.id] = await class_sheet(
                    connection, school, class_id, period, now
                )
            lines.append(sheets[class_id, period.id])
        report = SchoolPeriodSheet(
            school_id=school.id,
            school=lines[0].school,
            period_id=period.id,
            period_kind=period.kind,
            period_number=period.number,
            starts_on=period.starts_on,
            ends_on=period.ends_on,
            classes=tuple(class_results(sheet) for sheet in lines),
        )
        key = f"school_period_sheet:{school.id}:{period.id}"
        for deputy in deputies:
            reader = (deputy[0], deputy[1], deputy[2], deputy[3], deputy[4])
            queued += await queue_for(connection, reader, key, report, school=school, now=now)
    return queued


_CARD = text(
    """
    INSERT INTO notifications (account_id, chat_id, student_id, category, dedup_key, payload,
                               not_before)
    VALUES (:account, :chat, :student, :category, :key, CAST(:payload AS jsonb), :not_before)
    ON CONFLICT (account_id, dedup_key) DO NOTHING
    """
)


async def queue_report_cards(
    connection: AsyncConnection,
    school: SchoolRules,
    class_id: int,
    period: PeriodRef,
    now: datetime,
) -> int:
    """Each family of the class's pupils (a guardian with consent, the pupil's own account:
    services.access) gets the pupil's report card of the period (seed 004 §4.6.4), after
    their quiet hours. The card is built when sent, as access and grades stand then."""
    pupils = (
        await connection.execute(
            select(m.Student.id).where(m.Student.class_id == class_id, m.Student.left_at.is_(None))
        )
    ).scalars()
    payload = PeriodReportCard(period_id=period.id)
    return await _queue_cards(connection, school, access.family_accounts(pupils), payload, now)


async def _queue_cards(
    connection: AsyncConnection,
    school: SchoolRules,
    families: CompoundSelect[Any],
    payload: PeriodReportCard | LeaverReport,
    now: datetime,
) -> int:
    """One document per (account_id, student_id) of `families` (services.access) whose
    account is active, after the account's quiet hours, once per key."""
    links = families.subquery()
    account = m.Account
    rows = await connection.execute(
        select(
            links.c.account_id,
            links.c.student_id,
            account.chat_id,
            account.quiet_from,
            account.quiet_to,
            account.timezone,
        ).join(account, and_(account.id == links.c.account_id, account.is_active))
    )
    encoded = payload.model_dump_json()
    queued = 0
    for account_id, student_id, chat, quiet_from, quiet_to, zone in rows:
        key = (
            f"report_card:{student_id}:{payload.period_id}"
            if isinstance(payload, PeriodReportCard)
            else f"leaver_report:{student_id}"
        )
        result = await connection.execute(
            _CARD,
            {
                "account": account_id,
                "chat": chat,
                "student": student_id,
                "category": payload.kind,
                "key": key,
                "payload": encoded,
                "not_before": after_quiet_hours(
                    now, ZoneInfo(zone) if zone else school.zone, quiet_from, quiet_to
                ),
            },
        )
        queued += int(result.rowcount)
    return queued


async def queue_leaver_reports(
    connection: AsyncConnection, school: SchoolRules, now: datetime
) -> int:
    """The final report of each pupil of the school who left in the last `RECENT` days, once,
    to their family (services.access.leaver_families; seed 003 §7.7)."""
    today = now.astimezone(school.zone).date()
    leavers = (
        await connection.execute(
            select(m.Student.id, m.Student.left_at).where(
                m.Student.school_id == school.id,
                m.Student.left_at.between(today - RECENT, today),
            )
        )
    ).all()
    queued = 0
    for student_id, left_on in leavers:
        if not await _claim(connection, f"leaver:{student_id}", now):
            continue
        families = access.leaver_families([student_id])
        queued += await _queue_cards(
            connection, school, families, LeaverReport(left_on=left_on), now
        )
    return queued


async def _claim(connection: AsyncConnection, key: str, now: datetime) -> bool:
    """Take the run key of one document; False when it was taken before."""
    claimed = await connection.execute(_CLAIM, {"job": SHEET_JOB, "key": key, "now": now})
    return claimed.first() is not None
