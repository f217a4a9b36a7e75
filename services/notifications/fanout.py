"""From journal events to queued notifications: recipients, preferences, quiet hours, digests.

SPEC §5: new, corrected and removed marks, absences and lateness, final grades (one message per
child and period, however many subjects arrive together), homework (an evening digest by
default). Recipients are the accounts linked right now as the student or as a guardian with
consent on record (seed 003 §1.5; the rule is `services.access.family_accounts`, which the
send-time check shares), and only for events after the moment of linking. The queue
row is unique per (account, dedup_key): an event is never queued twice for a person. The text
is composed when the message is sent (`services.notifications.content`, then the texts in
`handlers.pushes`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services import access, forbidden
from services.db import models as m
from services.notifications import corrections
from services.notifications.changes import JournalEvent
from services.notifications.payloads import (
    AttendanceChange,
    Digest,
    FamilyItem,
    FinalGrades,
    MarkChange,
    NewHomework,
    Payload,
    encode,
)
from services.notifications.preferences import Category, Mode, preferences
from services.zones import DEFAULT_TIMEZONE


@dataclass(frozen=True, slots=True)
class Recipient:
    account_id: int
    chat_id: int
    role: str  # guardian or student
    student_id: int
    linked_at: datetime
    zone: ZoneInfo
    quiet_from: time
    quiet_to: time
    digest_time: time


@dataclass(frozen=True, slots=True)
class Policy:
    """Timing rules of the delivery side that the fan-out needs."""

    hold: timedelta = timedelta(0)


def in_quiet_hours(local: datetime, quiet_from: time, quiet_to: time) -> bool:
    moment = local.time()
    if quiet_from == quiet_to:
        return False
    if quiet_from < quiet_to:
        return quiet_from <= moment < quiet_to
    return moment >= quiet_from or moment < quiet_to


def after_quiet_hours(
    moment: datetime, zone: ZoneInfo, quiet_from: time, quiet_to: time
) -> datetime:
    """`moment`, or the end of the recipient's quiet hours when it falls inside them."""
    local = moment.astimezone(zone)
    if not in_quiet_hours(local, quiet_from, quiet_to):
        return moment
    end = datetime.combine(local.date(), quiet_to, zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet_to, zone)
    return end.astimezone(UTC)


def next_digest(moment: datetime, zone: ZoneInfo, at: time) -> datetime:
    """The next daily digest time after `moment`, in the recipient's zone."""
    local = moment.astimezone(zone)
    due = datetime.combine(local.date(), at, zone)
    if due <= local:
        due = datetime.combine(local.date() + timedelta(days=1), at, zone)
    return due.astimezone(UTC)


def _recipients(student_ids: Iterable[int], default_zone: str) -> Select[*tuple[Any, ...]]:
    """The accounts that may hear of these students (services.access), with their settings."""
    links = access.family_accounts(student_ids).subquery()
    account, student, school = m.Account, m.Student, m.School
    return (
        select(
            account.id,
            account.chat_id,
            links.c.role,
            links.c.student_id,
            links.c.created_at,
            func.coalesce(account.timezone, school.timezone, default_zone),
            account.quiet_from,
            account.quiet_to,
            account.digest_time,
        )
        .select_from(links)
        .join(account, and_(account.id == links.c.account_id, account.is_active))
        .join(student, and_(student.id == links.c.student_id, student.left_at.is_(None)))
        .join(school, school.id == student.school_id)
    )


# Wakes the senders at once instead of at their next poll.
WAKE_SENDERS = text("SELECT pg_notify('notifications', '')")


async def recipients(
    connection: AsyncConnection, student_ids: Iterable[int], *, default_zone: str
) -> dict[int, list[Recipient]]:
    """Active linked accounts per student, as links stand now."""
    ids = sorted(set(student_ids))
    if not ids:
        return {}
    rows = await connection.execute(_recipients(ids, default_zone))
    found: dict[int, dict[int, Recipient]] = defaultdict(dict)
    for account, chat, role, student, linked, zone, q_from, q_to, digest in rows:
        # A guardian who is also linked as the student (rare) is one recipient, not two.
        found[student].setdefault(
            account,
            Recipient(
                account_id=account,
                chat_id=chat,
                role="student" if role == "student" else "guardian",
                student_id=student,
                linked_at=linked,
                zone=ZoneInfo(zone),
                quiet_from=q_from,
                quiet_to=q_to,
                digest_time=digest,
            ),
        )
    return {student: list(accounts.values()) for student, accounts in found.items()}


# --- what an event becomes ---------------------------------------------------------------------


@dataclass
class Pending:
    """A notification about to be queued; several events may fold into one."""

    recipient: Recipient
    category: Category
    dedup_key: str
    payload: Payload
    not_before: datetime

    def merge(self, other: Payload) -> bool:
        """Fold another row of the same key in: final grades and digest items gather in one
        message; anything else is queued once. False when nothing was merged."""
        if isinstance(self.payload, FinalGrades) and isinstance(other, FinalGrades):
            grades = self.payload.grades + other.grades
            self.payload = self.payload.model_copy(update={"grades": grades})
            return True
        if isinstance(self.payload, Digest) and isinstance(other, Digest):
            items = self.payload.items + other.items
            self.payload = self.payload.model_copy(update={"items": items})
            return True
        return False


def _category(event: JournalEvent) -> Category | None:
    prefix = event.kind.split(".", 1)[0]
    return {
        "mark": Category.MARKS,
        "final": Category.FINALS,
        "attendance": Category.ATTENDANCE,
        "homework": Category.HOMEWORK,
    }.get(prefix)


def _payload(event: JournalEvent) -> FamilyItem:
    """What the message needs besides what is read when it is sent."""
    new = event.new or {}
    old = event.old or {}
    action = event.kind.split(".", 1)[1]
    if event.table_name == "marks":
        return MarkChange.model_validate(
            {"action": action, "mark_id": event.row_id, "was": old.get("value")}
        )
    if event.table_name == "final_grades":
        return FinalGrades(grades=(event.row_id,), period_id=new.get("period_id"))
    if event.table_name == "attendance":
        row = new or old
        return AttendanceChange.model_validate(
            {
                "action": action,
                "attendance_id": event.row_id,
                "lesson_id": row.get("lesson_id"),
                "was_kind": old.get("kind"),
            }
        )
    return NewHomework(homework_id=event.row_id, lesson_id=event.lesson_id)


def _worth_telling(event: JournalEvent) -> bool:
    if event.table_name == "attendance" and event.kind.endswith(".changed"):
        # A new reason or "valid" is the school's paperwork; a changed kind is news.
        return (event.old or {}).get("kind") != (event.new or {}).get("kind")
    if event.table_name == "homework":
        return event.kind.endswith(".new")
    return event.table_name in {"marks", "final_grades", "attendance"}


async def _homework_students(
    connection: AsyncConnection, events: Sequence[JournalEvent]
) -> dict[int, list[int]]:
    """Homework events carry a lesson, not a student: the lesson's students (own subgroup)."""
    lessons = sorted({e.lesson_id for e in events if e.lesson_id is not None})
    if not lessons:
        return {}
    rows = await connection.execute(
        text(
            """
            SELECT l.id, s.id FROM lessons l
            JOIN students s ON s.class_id = l.class_id AND s.left_at IS NULL
            WHERE l.id = ANY(CAST(:lessons AS bigint[]))
              AND (l.subgroup_id IS NULL OR EXISTS (
                   SELECT 1 FROM subgroup_members m
                   WHERE m.subgroup_id = l.subgroup_id AND m.student_id = s.id))
            """
        ),
        {"lessons": lessons},
    )
    found: dict[int, list[int]] = defaultdict(list)
    for lesson, student in rows:
        found[lesson].append(student)
    return found


async def fan_out(
    connection: AsyncConnection,
    events: Sequence[JournalEvent],
    *,
    now: datetime,
    policy: Policy,
    default_zone: str = DEFAULT_TIMEZONE,
) -> int:
    """Queue the notifications for a batch of events; returns how many rows were written.

    Runs in the transaction that claimed the events, so a crash queues nothing and the
    events are claimed again.
    """
    relevant = [e for e in events if _category(e) is not None and _worth_telling(e)]
    # Marks and final grades the school's profile does not allow are never told.
    relevant = await forbidden.family_events(connection, relevant)
    if not relevant:
        return 0
    by_lesson = await _homework_students(
        connection, [e for e in relevant if e.table_name == "homework"]
    )
    targets: list[tuple[JournalEvent, int]] = []
    for event in relevant:
        if event.table_name == "homework":
            targets.extend((event, s) for s in by_lesson.get(event.lesson_id or 0, ()))
        elif event.student_id is not None:
            targets.append((event, event.student_id))
    people = await recipients(connection, {s for _, s in targets}, default_zone=default_zone)
    prefs = await preferences(
        connection, {r.account_id for group in people.values() for r in group}
    )
    queued: dict[tuple[int, str], Pending] = {}
    written = 0
    for event, student in targets:
        category = _category(event)
        assert category is not None
        for person in people.get(student, ()):
            if person.linked_at > event.created_at:
                continue  # linked after the event: no flood of old marks
            mode = prefs.mode(person, category)
            if mode is Mode.OFF:
                continue
            item = _payload(event)
            if (
                isinstance(item, MarkChange)
                and item.action != "new"
                and await _replaced_pending(connection, event, person, item, queued)
            ):
                continue
            pending = _pending(event, item, person, mode=mode, now=now, policy=policy)
            existing = queued.get((person.account_id, pending.dedup_key))
            if existing is None:
                queued[(person.account_id, pending.dedup_key)] = pending
            else:
                existing.merge(pending.payload)
    written += await _insert(connection, list(queued.values()))
    return written


def _pending(
    event: JournalEvent,
    item: FamilyItem,
    person: Recipient,
    *,
    mode: Mode,
    now: datetime,
    policy: Policy,
) -> Pending:
    category = _category(event)
    assert category is not None
    student = person.student_id
    if mode is Mode.DIGEST:
        # One evening message gathers everything in digest mode (SPEC §5).
        return Pending(
            person,
            category,
            "digest",
            Digest(items=(item.model_copy(update={"student_id": student}),)),
            next_digest(now, person.zone, person.digest_time),
        )
    hold = policy.hold if event.table_name == "marks" else timedelta(0)
    due = after_quiet_hours(now + hold, person.zone, person.quiet_from, person.quiet_to)
    if isinstance(item, FinalGrades):
        # At a period's end, one message per child with every subject that arrived.
        key = f"finals:{student}:{item.period_id}"
        return Pending(person, category, key, item, due)
    return Pending(person, category, f"{item.kind}:{event.row_id}", item, due)


async def _replaced_pending(
    connection: AsyncConnection,
    event: JournalEvent,
    person: Recipient,
    item: MarkChange,
    batch: dict[tuple[int, str], Pending],
) -> bool:
    """A correction or removal of a mark whose message has not gone out yet, in this batch or
    in the queue, takes its place: one message, told as a correction (seed 003 §8.6;
    services/notifications/corrections.py). False when no such message waits."""
    replaced = (event.new or {}).get("replaces_id")
    if replaced is None:
        return False
    for key in corrections.keys(replaced):
        pending = batch.get((person.account_id, key))
        if pending is None:
            continue
        folded = corrections.fold(pending.payload, replaced, event, item)
        if folded is pending.payload:
            continue
        del batch[(person.account_id, key)]
        if folded is not None:
            pending.payload = folded
            pending.dedup_key = corrections.new_key(key, event)
            batch[(person.account_id, pending.dedup_key)] = pending
        return True
    return await corrections.fold_queued(connection, person.account_id, event, item)


_INSERT = text(
    """
    INSERT INTO notifications
        (account_id, chat_id, student_id, category, dedup_key, payload, not_before)
    SELECT * FROM unnest(
        CAST(:accounts AS bigint[]), CAST(:chats AS bigint[]), CAST(:students AS bigint[]),
        CAST(:categories AS text[]), CAST(:keys AS text[]), CAST(:payloads AS jsonb[]),
        CAST(:due AS timestamptz[]))
    ON CONFLICT (account_id, dedup_key) DO UPDATE SET
        payload = CASE
            WHEN EXCLUDED.payload ? 'grades' THEN jsonb_set(notifications.payload, '{grades}',
                (notifications.payload -> 'grades') || (EXCLUDED.payload -> 'grades'))
            WHEN EXCLUDED.payload ? 'items' THEN jsonb_set(notifications.payload, '{items}',
                (notifications.payload -> 'items') || (EXCLUDED.payload -> 'items'))
            ELSE notifications.payload END
    WHERE notifications.status = 'pending'
      AND (EXCLUDED.payload ? 'grades' OR EXCLUDED.payload ? 'items')
    """
)


async def _insert(connection: AsyncConnection, rows: Sequence[Pending]) -> int:
    """Queue the rows; a key already queued merges its list or is left alone (never twice)."""
    if not rows:
        return 0
    result = await connection.execute(
        _INSERT,
        {
            "accounts": [r.recipient.account_id for r in rows],
            "chats": [r.recipient.chat_id for r in rows],
            "students": [r.recipient.student_id for r in rows],
            "categories": [r.category.value for r in rows],
            "keys": [r.dedup_key for r in rows],
            "payloads": [encode(r.payload) for r in rows],
            "due": [r.not_before for r in rows],
        },
    )
    return int(result.rowcount)


async def handle_events(
    connection: AsyncConnection,
    events: list[JournalEvent],
    *,
    hold: timedelta,
    default_zone: str,
) -> None:
    """The change reader's handler: queue what the events tell, then wake the senders."""
    written = await fan_out(
        connection,
        events,
        now=datetime.now(UTC),
        policy=Policy(hold=hold),
        default_zone=default_zone,
    )
    if written:
        await connection.execute(WAKE_SENDERS)
