"""A family's thread with a teacher: who may write to whom (services/access.py), the thread
as each side sees it, what an account is writing in now, and a note queued to the other side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services import access
from services.access import NotFound, Relation, StudentRef
from services.db import models as m
from services.notifications.fanout import after_quiet_hours
from services.notifications.payloads import ContactNote, encode

# How long after choosing a teacher (or the last message) what one types goes to the thread.
DRAFT_TIME = timedelta(minutes=30)
CATEGORY = "contact"


class Closed(Exception):
    """The school does not take messages through the bot (`schools.contact_enabled`)."""


@dataclass(frozen=True, slots=True)
class Teacher:
    staff_id: int
    name: str
    class_teacher: bool
    subjects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Thread:
    """A thread as one of its sides sees it."""

    id: int
    student: StudentRef
    teacher: Teacher
    # The family side: the guardian's name, or None when the student writes themself.
    guardian: str | None
    family_account_id: int
    # The side of the account that looks at it.
    as_family: bool


def _name(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


async def school_settings(session: AsyncSession, school_id: int) -> tuple[bool, ZoneInfo]:
    """Whether the school takes messages through the bot, and its time zone."""
    row = (
        await session.execute(
            select(m.School.contact_enabled, m.School.timezone).where(m.School.id == school_id)
        )
    ).one()
    return bool(row[0]), ZoneInfo(row[1])


async def teachers_of(
    session: AsyncSession, *, account_id: int, student_id: int
) -> tuple[StudentRef, list[Teacher]]:
    """The child and the teachers the account may write to about them, class teacher first.

    Access: the account is the student or their guardian now (`access.family_student`);
    NotFound otherwise; Closed where the school has switched messages off."""
    student = await access.family_student(session, account_id, student_id)
    enabled, _ = await school_settings(session, student.school_id)
    if not enabled:
        raise Closed(student.school_id)
    found = await access.student_teachers(session, student)
    if not found:
        return student, []
    names = {
        row[0]: _name(row[1], row[2], row[3])
        for row in await session.execute(
            select(m.Staff.id, m.Staff.first_name, m.Staff.middle_name, m.Staff.last_name).where(
                m.Staff.id.in_(found)
            )
        )
    }
    teachers = [
        Teacher(staff_id, names[staff_id], is_class_teacher, subjects)
        for staff_id, (is_class_teacher, subjects) in found.items()
    ]
    teachers.sort(key=lambda t: (not t.class_teacher, t.subjects, t.name))
    return student, teachers


async def _guardian_of(session: AsyncSession, account_id: int, student_id: int) -> int | None:
    """The guardian through whom the account sees the student (None for the student)."""
    return await session.scalar(
        select(m.Guardianship.guardian_id)
        .join(
            m.AccountLink,
            and_(
                m.AccountLink.guardian_id == m.Guardianship.guardian_id,
                m.AccountLink.account_id == account_id,
                m.AccountLink.revoked_at.is_(None),
            ),
        )
        .where(m.Guardianship.student_id == student_id, m.Guardianship.ended_on.is_(None))
        .order_by(m.Guardianship.guardian_id)
        .limit(1)
    )


async def keep_writing(
    session: AsyncSession, account_id: int, thread_id: int, now: datetime
) -> None:
    """What the account types within `DRAFT_TIME` from `now` goes to the thread (the caller
    has checked the account's side of it)."""
    statement = pg_insert(m.ContactDraft).values(
        account_id=account_id, thread_id=thread_id, until=now + DRAFT_TIME
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[m.ContactDraft.account_id],
            set_={"thread_id": statement.excluded.thread_id, "until": statement.excluded.until},
        )
    )


async def open_thread(
    session: AsyncSession, *, account_id: int, student_id: int, staff_id: int, now: datetime
) -> Thread:
    """The family account's thread with the teacher about the child (made on first use), and
    what it types next goes there. Commits.

    Access: the teacher is one `teachers_of` lists for the account and child now; NotFound
    otherwise (another class's teacher included); Closed where the school switched it off."""
    student, teachers = await teachers_of(session, account_id=account_id, student_id=student_id)
    teacher = next((t for t in teachers if t.staff_id == staff_id), None)
    if teacher is None:
        raise NotFound(staff_id)
    guardian_id = (
        None
        if student.relation is Relation.SELF
        else await _guardian_of(session, account_id, student.id)
    )
    statement = pg_insert(m.ContactThread).values(
        family_account_id=account_id,
        student_id=student.id,
        staff_id=staff_id,
        guardian_id=guardian_id,
    )
    thread_id = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=[
                m.ContactThread.family_account_id,
                m.ContactThread.student_id,
                m.ContactThread.staff_id,
            ],
            set_={"guardian_id": statement.excluded.guardian_id},
        ).returning(m.ContactThread.id)
    )
    assert thread_id is not None
    await keep_writing(session, account_id, thread_id, now)
    await session.commit()
    return await thread_for(session, account_id=account_id, thread_id=thread_id)


async def thread_for(session: AsyncSession, *, account_id: int, thread_id: int) -> Thread:
    """The thread as the account's side sees it now.

    Access: the family side is the thread's account while it may still see the child as
    family; the teacher's side is an account linked now to the thread's teacher, while the
    teacher is still one the family may write to. NotFound otherwise; Closed where the
    school switched messages off."""
    row = (
        await session.execute(
            select(
                m.ContactThread.family_account_id,
                m.ContactThread.student_id,
                m.ContactThread.staff_id,
                m.Guardian.first_name,
                m.Guardian.last_name,
            )
            .outerjoin(m.Guardian, m.Guardian.id == m.ContactThread.guardian_id)
            .where(m.ContactThread.id == thread_id)
        )
    ).first()
    if row is None:
        raise NotFound(thread_id)
    family_account, student_id, staff_id, first, last = row
    as_family = family_account == account_id
    if not as_family and not await access.speaks_for_staff(session, account_id, staff_id):
        raise NotFound(thread_id)
    student, teachers = await teachers_of(
        session, account_id=family_account, student_id=student_id
    )
    teacher = next((t for t in teachers if t.staff_id == staff_id), None)
    if teacher is None:
        raise NotFound(thread_id)
    guardian = _name(first, last) if first or last else None
    return Thread(thread_id, student, teacher, guardian, family_account, as_family)


async def write_in(
    session: AsyncSession, *, account_id: int, thread_id: int, now: datetime
) -> Thread:
    """What the account types next goes to this thread (the button under a relayed message).
    Commits. Access: `thread_for`: a teacher answers only threads addressed to them, a family
    only its own."""
    thread = await thread_for(session, account_id=account_id, thread_id=thread_id)
    await keep_writing(session, account_id, thread_id, now)
    await session.commit()
    return thread


async def current_thread(
    session: AsyncSession, *, account_id: int, now: datetime
) -> Thread | None:
    """The thread the account is writing in, if it chose one within `DRAFT_TIME` and may still
    write there (`thread_for`)."""
    thread_id = await session.scalar(
        select(m.ContactDraft.thread_id).where(
            m.ContactDraft.account_id == account_id, m.ContactDraft.until > now
        )
    )
    if thread_id is None:
        return None
    try:
        return await thread_for(session, account_id=account_id, thread_id=thread_id)
    except (NotFound, Closed):
        return None


async def stop_writing(session: AsyncSession, *, account_id: int) -> None:
    """Nothing more the account types goes to a thread. Commits."""
    await session.execute(delete(m.ContactDraft).where(m.ContactDraft.account_id == account_id))
    await session.commit()


@dataclass(frozen=True, slots=True)
class _Reader:
    account_id: int
    chat_id: int
    zone: ZoneInfo | None
    quiet_from: time
    quiet_to: time


async def _readers(session: AsyncSession, thread: Thread, *, to_staff: bool) -> list[_Reader]:
    """The other side's active accounts: the teacher's (linked now), or the family's."""
    account = m.Account
    query = select(
        account.id, account.chat_id, account.timezone, account.quiet_from, account.quiet_to
    ).where(account.is_active)
    if to_staff:
        links = access.staff_accounts().subquery()
        query = query.join(links, links.c.account_id == account.id).where(
            links.c.staff_id == thread.teacher.staff_id
        )
    else:
        query = query.where(account.id == thread.family_account_id)
    return [
        _Reader(a, chat, ZoneInfo(zone) if zone else None, q_from, q_to)
        for a, chat, zone, q_from, q_to in await session.execute(query.distinct())
    ]


async def queue_note(
    session: AsyncSession,
    thread: Thread,
    note: ContactNote,
    *,
    to_staff: bool,
    now: datetime,
    zone: ZoneInfo,
) -> datetime | None:
    """The note to the other side's accounts, each after their quiet hours (SPEC §5); the
    latest moment one is held until, or None when all go at once."""
    held: datetime | None = None
    key = f"contact:{note.message_id}" + (":confirmed" if note.confirmed else "")
    for reader in await _readers(session, thread, to_staff=to_staff):
        due = after_quiet_hours(now, reader.zone or zone, reader.quiet_from, reader.quiet_to)
        if due > now:
            held = due if held is None else max(held, due)
        await session.execute(
            pg_insert(m.Notification)
            .values(
                account_id=reader.account_id,
                chat_id=reader.chat_id,
                student_id=thread.student.id,
                category=CATEGORY,
                dedup_key=key,
                payload=encode(note),
                not_before=due,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["account_id", "dedup_key"])
        )
    return held


async def set_enabled(engine: AsyncEngine, *, school_id: int, enabled: bool) -> bool:
    """Turn the school's messages between families and teachers on or off (`journalbot school
    contact`); False when there is no such school. Messages already queued are checked again
    when sent: switched off, they are not delivered. The administrator's command: no access
    rule."""
    async with engine.begin() as connection:
        result = await connection.execute(
            update(m.School).where(m.School.id == school_id).values(contact_enabled=enabled)
        )
    return bool(result.rowcount)
