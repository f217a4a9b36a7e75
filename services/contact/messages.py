"""A thread's messages: a text, a photo or an illness note sent, and read again when delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.access import NotFound
from services.contact.illness import ill_lessons
from services.contact.threads import (
    Closed,
    Teacher,
    keep_writing,
    queue_note,
    school_settings,
    thread_for,
)
from services.db import models as m
from services.notifications.fanout import WAKE_SENDERS
from services.notifications.payloads import ContactNote

MAX_TEXT = 2000
# A photo's caption is at most 1024 characters; the header takes the rest.
MAX_CAPTION = 800


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: int
    # When the message goes out: None at once; else the end of the recipient's quiet hours.
    held_until: datetime | None
    zone: ZoneInfo


@dataclass(frozen=True, slots=True)
class ContactNotice:
    """A queued thread message as its recipient reads it (handlers/pushes/contact.py)."""

    message_id: int
    thread_id: int
    to_staff: bool
    kind: str  # message, illness, confirmed
    student: str
    class_label: str
    guardian: str | None
    teacher: Teacher
    text: str | None
    attachment: str | None
    day: date | None
    # An illness note still to confirm: the class teacher gets the button.
    confirmable: bool
    lessons: int


async def send(
    session: AsyncSession,
    *,
    account_id: int,
    thread_id: int,
    now: datetime,
    text: str | None = None,
    attachment: str | None = None,
    illness: bool = False,
) -> Sent:
    """A text, a photo (the messenger's file id) or an illness note from the account to the
    other side of the thread, queued and audited (ids only). Commits.

    Access: `thread_for`; an illness note only from the family to the child's class teacher.
    ValueError for an empty or too long message."""
    thread = await thread_for(session, account_id=account_id, thread_id=thread_id)
    text = (text or "").strip() or None
    limit = MAX_CAPTION if attachment else MAX_TEXT
    if illness:
        if not (thread.as_family and thread.teacher.class_teacher):
            raise NotFound(thread_id)
        text = attachment = None
    elif text is None and attachment is None:
        raise ValueError("empty")
    elif text is not None and len(text) > limit:
        raise ValueError("too long")
    _, zone = await school_settings(session, thread.student.school_id)
    message_id = await session.scalar(
        insert(m.ContactMessage)
        .values(
            thread_id=thread.id,
            from_family=thread.as_family,
            kind=(m.ContactKind.ILLNESS if illness else m.ContactKind.TEXT).value,
            text=text,
            attachment=attachment,
            absence_day=now.astimezone(zone).date() if illness else None,
            created_at=now,
        )
        .returning(m.ContactMessage.id)
    )
    assert message_id is not None
    await session.execute(
        update(m.ContactThread).where(m.ContactThread.id == thread.id).values(last_at=now)
    )
    await keep_writing(session, account_id, thread.id, now)
    held = await queue_note(
        session,
        thread,
        ContactNote(message_id=message_id),
        to_staff=thread.as_family,
        now=now,
        zone=zone,
    )
    audit.record(
        session,
        audit.Action.CONTACT_SENT,
        account_id=account_id,
        student_id=thread.student.id,
        staff_id=thread.teacher.staff_id,
        details={
            "thread": thread.id,
            "message": message_id,
            "kind": "illness" if illness else "text",
            "photo": attachment is not None,
            "from": "family" if thread.as_family else "staff",
        },
        at=now,
    )
    await session.execute(WAKE_SENDERS)
    await session.commit()
    return Sent(message_id, held, zone)


async def note_for(
    session: AsyncSession, account_id: int, note: ContactNote
) -> ContactNotice | None:
    """A queued thread message as the recipient reads it when it is sent; None when the
    recipient may no longer read it (`thread_for`: a link revoked, the school switched it
    off, the teacher no longer the child's) or it is not theirs."""
    row = (
        await session.execute(
            select(
                m.ContactMessage.thread_id,
                m.ContactMessage.from_family,
                m.ContactMessage.kind,
                m.ContactMessage.text,
                m.ContactMessage.attachment,
                m.ContactMessage.absence_day,
                m.ContactMessage.confirmed_at,
            ).where(m.ContactMessage.id == note.message_id)
        )
    ).first()
    if row is None:
        return None
    thread_id, from_family, kind, text, attachment, day, confirmed_at = row
    try:
        thread = await thread_for(session, account_id=account_id, thread_id=thread_id)
    except (NotFound, Closed):
        return None
    if note.confirmed:
        if not thread.as_family or confirmed_at is None:
            return None
        shown = "confirmed"
    else:
        # A message goes to the side that did not write it.
        if thread.as_family == from_family:
            return None
        shown = "illness" if kind == m.ContactKind.ILLNESS.value else "message"
    lessons = await ill_lessons(session, thread.student.id, day) if day is not None else 0
    return ContactNotice(
        message_id=note.message_id,
        thread_id=thread.id,
        to_staff=not thread.as_family,
        kind=shown,
        student=thread.student.name,
        class_label=thread.student.class_label,
        guardian=thread.guardian,
        teacher=thread.teacher,
        text=text,
        attachment=attachment,
        day=day,
        confirmable=shown == "illness" and confirmed_at is None and thread.teacher.class_teacher,
        lessons=lessons,
    )
