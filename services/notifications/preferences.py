"""Notification preferences: the categories and modes, the defaults of each side, what an
account has chosen (per category and child, quiet hours, digest time) and how a choice is made.

An account changes only its own settings; a per-child choice is accepted only for a child the
account sees right now (services.access).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services import access
from services.accounts import account_update
from services.db import models as m
from services.notifications.queue import release_held
from services.zones import DEFAULT_TIMEZONE


class Category(enum.StrEnum):
    MARKS = "marks"
    ATTENDANCE = "attendance"
    FINALS = "finals"
    HOMEWORK = "homework"
    WEEKLY = "weekly"


class Mode(enum.StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"


# SPEC §5: what each side gets when they have chosen nothing.
DEFAULTS: dict[tuple[str, Category], Mode] = {
    ("guardian", Category.MARKS): Mode.IMMEDIATE,
    ("guardian", Category.ATTENDANCE): Mode.IMMEDIATE,
    ("guardian", Category.FINALS): Mode.IMMEDIATE,
    ("guardian", Category.HOMEWORK): Mode.OFF,
    ("guardian", Category.WEEKLY): Mode.IMMEDIATE,
    ("student", Category.MARKS): Mode.IMMEDIATE,
    ("student", Category.ATTENDANCE): Mode.OFF,
    ("student", Category.FINALS): Mode.IMMEDIATE,
    ("student", Category.HOMEWORK): Mode.DIGEST,
    ("student", Category.WEEKLY): Mode.IMMEDIATE,
}


_PREFS = text(
    """
    SELECT account_id, student_id, category, mode FROM notification_prefs
    WHERE account_id = ANY(CAST(:accounts AS bigint[]))
    """
)


class Subscriber(Protocol):
    """Whose choice is looked up: an account, as the child's guardian or as the student."""

    @property
    def account_id(self) -> int: ...

    @property
    def student_id(self) -> int: ...

    @property
    def role(self) -> str: ...


@dataclass
class Preferences:
    """Chosen modes: per child first, then for all children, then the role's default."""

    chosen: dict[tuple[int, int | None, str], str] = field(default_factory=dict)

    def mode(self, recipient: Subscriber, category: Category) -> Mode:
        for student in (recipient.student_id, None):
            chosen = self.chosen.get((recipient.account_id, student, category.value))
            if chosen is not None:
                return Mode(chosen)
        return DEFAULTS[(recipient.role, category)]


async def preferences(connection: AsyncConnection, accounts: Iterable[int]) -> Preferences:
    ids = sorted(set(accounts))
    if not ids:
        return Preferences()
    rows = await connection.execute(_PREFS, {"accounts": ids})
    return Preferences({(a, s, c): mode for a, s, c, mode in rows})


# The choices offered in the bot: few and clear.
QUIET_CHOICES: dict[str, tuple[time, time]] = {
    "21-8": (time(21), time(8)),
    "22-7": (time(22), time(7)),
    "23-7": (time(23), time(7)),
    "off": (time(0), time(0)),
}
DIGEST_CHOICES = (time(18), time(19), time(20), time(21))
THRESHOLD_CHOICES = (2, 3)
# Weekly digests are on or off; homework can go straight away, in the digest, or not at all.
MODES: dict[Category, tuple[Mode, ...]] = {
    Category.MARKS: (Mode.IMMEDIATE, Mode.DIGEST, Mode.OFF),
    Category.ATTENDANCE: (Mode.IMMEDIATE, Mode.DIGEST, Mode.OFF),
    Category.FINALS: (Mode.IMMEDIATE, Mode.OFF),
    Category.HOMEWORK: (Mode.IMMEDIATE, Mode.DIGEST, Mode.OFF),
    Category.WEEKLY: (Mode.IMMEDIATE, Mode.OFF),
}


@dataclass(frozen=True, slots=True)
class AccountSettings:
    role: str  # guardian or student: whose defaults apply
    modes: dict[Category, Mode]  # for all children
    per_child: dict[int, dict[Category, Mode]]  # child id → chosen overrides
    quiet_from: time
    quiet_to: time
    low_mark_threshold: int
    digest_time: time
    language: str | None


async def load(session: AsyncSession, account_id: int) -> AccountSettings | None:
    account = await session.get(m.Account, account_id)
    if account is None:
        return None
    who = await access.identity(session, account_id)
    role = "guardian" if who.guardian_ids or not who.student_ids else "student"
    rows = await session.execute(
        select(
            m.NotificationPreference.student_id,
            m.NotificationPreference.category,
            m.NotificationPreference.mode,
        ).where(m.NotificationPreference.account_id == account_id)
    )
    modes = {c: DEFAULTS[(role, c)] for c in Category}
    per_child: dict[int, dict[Category, Mode]] = {}
    for student, category, mode in rows:
        if category not in Category.__members__.values():
            continue
        if student is None:
            modes[Category(category)] = Mode(mode)
        else:
            per_child.setdefault(student, {})[Category(category)] = Mode(mode)
    return AccountSettings(
        role=role,
        modes=modes,
        per_child=per_child,
        quiet_from=account.quiet_from,
        quiet_to=account.quiet_to,
        low_mark_threshold=account.low_mark_threshold,
        digest_time=account.digest_time,
        language=account.language,
    )


def next_mode(category: Category, current: Mode) -> Mode:
    choices = MODES[category]
    return (
        choices[(choices.index(current) + 1) % len(choices)] if current in choices else choices[0]
    )


async def set_mode(
    session: AsyncSession,
    *,
    account_id: int,
    category: Category,
    mode: Mode,
    student_id: int | None = None,
) -> None:
    """Choose a mode for all children, or for one the account may see (NotFound otherwise).
    Commits."""
    if mode not in MODES[category]:
        raise ValueError(mode)
    if student_id is not None:
        await access.student_for(session, account_id, student_id)
    await session.execute(
        delete(m.NotificationPreference).where(
            m.NotificationPreference.account_id == account_id,
            m.NotificationPreference.category == category.value,
            m.NotificationPreference.student_id.is_(None)
            if student_id is None
            else m.NotificationPreference.student_id == student_id,
        )
    )
    await session.execute(
        insert(m.NotificationPreference).values(
            account_id=account_id, student_id=student_id, category=category.value, mode=mode.value
        )
    )
    await session.commit()


async def set_quiet(
    session: AsyncSession, *, account_id: int, choice: str, now: datetime | None = None
) -> int:
    """One of QUIET_CHOICES (KeyError otherwise). Commits.

    What the old quiet hours held goes when the new ones allow: at once when they are off or
    over by now, at their earlier end when narrowed (SPEC §5: messages wait only while the
    recipient's quiet hours last). How many messages were released."""
    # The fan-out reads preferences: its rule of quiet hours is imported when used.
    from services.notifications.fanout import after_quiet_hours

    start, end = QUIET_CHOICES[choice]
    account = await session.get(m.Account, account_id)
    if account is None:
        raise access.NotFound(account_id)
    now = now or datetime.now(UTC)
    zone = await account_zone(session, account_id)
    held_until = after_quiet_hours(now, zone, account.quiet_from, account.quiet_to)
    await session.execute(account_update(account_id, quiet_from=start, quiet_to=end))
    released = 0
    if held_until > now:
        due = after_quiet_hours(now, zone, start, end)
        if due < held_until:
            released = await release_held(
                await session.connection(), account_id, held_until=held_until, due=due
            )
    await session.commit()
    return released


_ZONE = text(
    """
    SELECT coalesce(
        (SELECT a.timezone FROM accounts a WHERE a.id = :a),
        (SELECT s.timezone FROM account_links l JOIN students st ON st.id = l.student_id
         JOIN schools s ON s.id = st.school_id
         WHERE l.account_id = :a AND l.revoked_at IS NULL LIMIT 1),
        (SELECT s.timezone FROM account_links l
         JOIN guardianships g ON g.guardian_id = l.guardian_id
         JOIN students st ON st.id = g.student_id JOIN schools s ON s.id = st.school_id
         WHERE l.account_id = :a AND l.revoked_at IS NULL LIMIT 1),
        (SELECT s.timezone FROM account_links l JOIN staff sf ON sf.id = l.staff_id
         JOIN schools s ON s.id = sf.school_id
         WHERE l.account_id = :a AND l.revoked_at IS NULL LIMIT 1))
    """
)


async def account_zone(session: AsyncSession, account_id: int) -> ZoneInfo:
    """The zone the account's quiet hours are kept in, as the fan-out and the reminders take
    it: the account's own, else its school's (a child's or its staff member's), else the
    default."""
    name = await session.scalar(_ZONE, {"a": account_id})
    try:
        return ZoneInfo(str(name or DEFAULT_TIMEZONE))
    except (ValueError, KeyError):
        return ZoneInfo(DEFAULT_TIMEZONE)


# --- staff: which reports they get (reminders are muted in services/reminders.py) -----------


class StaffReport(enum.StrEnum):
    """The staff messages a person may turn off besides reminders: each the payload's kind
    (services/notifications/payloads.py), stored as a notification preference for all
    children (student NULL), `off` or `immediate`."""

    CLASS_WEEK = "class_week"  # the class teacher's Friday week (seed 000 §6.3)
    CLASS_DAY = "class_day"  # the class teacher's daily attendance check (seed 001 §4.2.3)
    FEW_MARKS = "few_marks"  # too few marks before a period ends (seed 003 §8.4)
    DEPUTY_WEEK = "deputy_week"  # the deputy's Friday journal keeping (seed 004 §4.6.5)


async def staff_reports_off(session: AsyncSession, account_id: int) -> set[StaffReport]:
    rows = await session.scalars(
        select(m.NotificationPreference.category).where(
            m.NotificationPreference.account_id == account_id,
            m.NotificationPreference.student_id.is_(None),
            m.NotificationPreference.category.in_([r.value for r in StaffReport]),
            m.NotificationPreference.mode == Mode.OFF.value,
        )
    )
    return {StaffReport(c) for c in rows}


async def set_staff_report(
    session: AsyncSession, *, account_id: int, report: StaffReport, on: bool
) -> None:
    """Turn one kind of staff message on or off for the account. Commits."""
    await session.execute(
        delete(m.NotificationPreference).where(
            m.NotificationPreference.account_id == account_id,
            m.NotificationPreference.category == report.value,
            m.NotificationPreference.student_id.is_(None),
        )
    )
    if not on:
        await session.execute(
            insert(m.NotificationPreference).values(
                account_id=account_id, student_id=None, category=report.value, mode=Mode.OFF.value
            )
        )
    await session.commit()


_REPORT_OFF = text(
    """
    SELECT EXISTS (SELECT 1 FROM notification_prefs
                   WHERE account_id = :account AND student_id IS NULL
                     AND category = :kind AND mode = 'off')
    """
)


async def staff_report_off(connection: AsyncConnection, account_id: int, kind: str) -> bool:
    """Whether the account has turned this kind of staff message off (queue_for asks)."""
    if kind not in StaffReport.__members__.values():
        return False
    return bool(
        (await connection.execute(_REPORT_OFF, {"account": account_id, "kind": kind})).scalar()
    )


async def set_threshold(session: AsyncSession, *, account_id: int, threshold: int) -> None:
    if threshold not in THRESHOLD_CHOICES:
        raise ValueError(threshold)
    await session.execute(account_update(account_id, low_mark_threshold=threshold))
    await session.commit()


async def set_digest_time(session: AsyncSession, *, account_id: int, at: time) -> None:
    if at not in DIGEST_CHOICES:
        raise ValueError(at)
    await session.execute(account_update(account_id, digest_time=at))
    await session.commit()
