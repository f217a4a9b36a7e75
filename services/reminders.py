"""Reminders of the journal entries teachers have not made (`services/gaps.py` finds them).

Reminders go out through the notification queue (`services/notifications/`): one message per
teacher, grouped by class, subject and date; a gap is told at most once a day
(`reminder_told`); a category can be snoozed until tomorrow or turned off
(`reminder_mutes`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, and_, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from services import access
from services.db import models as m
from services.gaps import LOOKBACK_DAYS, Gap, SchoolRules, school_gaps, schools, zone_or
from services.notifications.fanout import after_quiet_hours
from services.notifications.payloads import (
    GapCategory,
    Reminder,
    ReminderRun,
    encode,
)
from services.zones import DEFAULT_TIMEZONE

# What is missing and the schools' rules (services/gaps.py) are named here as well, for the
# callers of reminders.
__all__ = [
    "LOOKBACK_DAYS",
    "SOON_WINDOW",
    "Category",
    "Gap",
    "Planned",
    "Run",
    "SchoolRules",
    "mutes",
    "queue_reminders",
    "school_gaps",
    "schools",
    "select_gaps",
    "snooze",
    "staff_zone",
    "tomorrow_morning",
    "unmute",
]

# A deadline counted in hours is reminded of this long before it.
SOON_WINDOW = timedelta(hours=1)

# The kinds of gap and of run are the payload's: the reminder carries them to its text.
Category = GapCategory
Run = ReminderRun

_CATEGORIES = frozenset(c.value for c in Category)


# --- reminders ---------------------------------------------------------------------------


def select_gaps(gaps: list[Gap], run: Run, now: datetime, school: SchoolRules) -> list[Gap]:
    """The gaps a run tells of: in the evening what falls due before the next morning's
    summary (and final grades due within the warning window); in the morning what is
    overdue. Entries against the rules go with either, whichever comes first."""
    profile = school.profile
    local = now.astimezone(school.zone)
    if run is Run.MORNING:
        return [g for g in gaps if g.due <= now]
    if run is Run.SOON:
        return [g for g in gaps if now < g.due <= now + SOON_WINDOW]
    next_morning = datetime.combine(
        local.date() + timedelta(days=1), profile.morning_summary, school.zone
    )
    warn = now + timedelta(days=profile.finals_warn_days)
    return [
        g
        for g in gaps
        if g.category is Category.FORBIDDEN
        or (
            now < g.due
            and (g.due <= next_morning or (g.category is Category.FINALS and g.due <= warn))
        )
    ]


def staff_readers(staff_ids: list[int], now: datetime) -> Select[*tuple[Any, ...]]:
    """The accounts of these teachers (services.access), with what each has muted now."""
    links = access.staff_accounts().subquery()
    account, mute = m.Account, m.ReminderMute
    muted = func.array_agg(mute.category).filter(
        mute.category.is_not(None), or_(mute.until.is_(None), mute.until > now)
    )
    settings = (
        account.id,
        account.chat_id,
        account.quiet_from,
        account.quiet_to,
        account.timezone,
    )
    return (
        select(links.c.staff_id, *settings, func.coalesce(muted, literal([], ARRAY(String))))
        .select_from(links)
        .join(account, and_(account.id == links.c.account_id, account.is_active))
        .outerjoin(mute, mute.account_id == account.id)
        .where(links.c.staff_id.in_(staff_ids))
        .group_by(links.c.staff_id, *settings)
    )


_TOLD = text(
    """
    INSERT INTO reminder_told (staff_id, day, gap)
    SELECT * FROM unnest(CAST(:staff AS bigint[]), CAST(:days AS date[]), CAST(:gaps AS text[]))
    ON CONFLICT DO NOTHING
    RETURNING staff_id, gap
    """
)

_FORGET = text(
    """
    DELETE FROM reminder_told t USING staff s
    WHERE s.id = t.staff_id AND s.school_id = :school AND t.day < :before
    """
)

_QUEUE = text(
    """
    INSERT INTO notifications (account_id, chat_id, student_id, category, dedup_key, payload,
                               not_before)
    VALUES (:account, :chat, NULL, 'reminder', :key, CAST(:payload AS jsonb), :not_before)
    ON CONFLICT (account_id, dedup_key) DO NOTHING
    """
)


@dataclass(frozen=True, slots=True)
class Planned:
    teachers: int  # teachers told of something
    gaps: int  # gaps told
    messages: int  # messages queued (a teacher may have several linked accounts)


async def queue_reminders(
    connection: AsyncConnection, school: SchoolRules, run: Run, now: datetime
) -> Planned:
    """Queue this run's reminders for one school, in the caller's transaction."""
    chosen = select_gaps(await school_gaps(connection, school, now), run, now, school)
    if not chosen:
        return Planned(0, 0, 0)
    by_staff: dict[int, list[Gap]] = defaultdict(list)
    for gap in chosen:
        by_staff[gap.staff_id].append(gap)
    accounts = (await connection.execute(staff_readers(list(by_staff), now))).all()
    # What each linked teacher still wants to hear of.
    wanted: dict[int, list[tuple[int, int, set[str], datetime]]] = defaultdict(list)
    for staff, account, chat, quiet_from, quiet_to, zone, muted in accounts:
        # The teacher's own quiet hours hold a reminder as they hold any message (SPEC §5).
        due = after_quiet_hours(now, zone_or(zone, school.zone.key), quiet_from, quiet_to)
        wanted[staff].append((account, chat, set(muted), due))
    candidates = [
        g
        for staff, staff_gaps in by_staff.items()
        for g in staff_gaps
        if any(str(g.category) not in muted for _, _, muted, _ in wanted.get(staff, []))
    ]
    if not candidates:
        return Planned(0, 0, 0)
    today = now.astimezone(school.zone).date()
    # What was told long ago is no longer needed to avoid repeating it.
    await connection.execute(_FORGET, {"school": school.id, "before": today - timedelta(days=2)})
    fresh = {
        (staff, key)
        for staff, key in await connection.execute(
            _TOLD,
            {
                "staff": [g.staff_id for g in candidates],
                "days": [today] * len(candidates),
                "gaps": [g.key for g in candidates],
            },
        )
    }
    teachers = messages = told = 0
    for staff, targets in wanted.items():
        staff_gaps = [g for g in by_staff[staff] if (staff, g.key) in fresh]
        if not staff_gaps:
            continue
        teachers += 1
        told += len(staff_gaps)
        for account, chat, muted, not_before in targets:
            mine = [g for g in staff_gaps if str(g.category) not in muted]
            if not mine:
                continue
            mine.sort(key=lambda g: (g.day, g.class_label, g.slot, g.subject, g.category))
            payload = Reminder(
                staff_id=staff,
                run=run,
                zone=school.zone.key,
                gaps=tuple(g.entry() for g in mine),
            )
            result = await connection.execute(
                _QUEUE,
                {
                    "account": account,
                    "chat": chat,
                    "key": f"reminder:{run}:{school.id}:{today.isoformat()}"
                    + (f"T{now.astimezone(school.zone):%H%M}" if run is Run.SOON else ""),
                    "payload": encode(payload),
                    "not_before": not_before,
                },
            )
            messages += result.rowcount
    return Planned(teachers, told, messages)


# --- snooze and off ----------------------------------------------------------------------

_MUTE = text(
    """
    INSERT INTO reminder_mutes (account_id, category, until) VALUES (:account, :category, :until)
    ON CONFLICT (account_id, category) DO UPDATE SET until = EXCLUDED.until
    """
)


async def snooze(
    connection: AsyncConnection, account_id: int, category: Category, until: datetime | None
) -> None:
    """Mute a category until a moment (None: until turned on again)."""
    await connection.execute(
        _MUTE, {"account": account_id, "category": str(category), "until": until}
    )


async def unmute(connection: AsyncConnection, account_id: int, category: Category) -> None:
    await connection.execute(
        text("DELETE FROM reminder_mutes WHERE account_id = :a AND category = :c"),
        {"a": account_id, "c": str(category)},
    )


async def mutes(
    connection: AsyncConnection, account_id: int, now: datetime
) -> dict[Category, datetime | None]:
    rows = await connection.execute(
        text(
            "SELECT category, until FROM reminder_mutes WHERE account_id = :a"
            " AND (until IS NULL OR until > :now)"
        ),
        {"a": account_id, "now": now},
    )
    return {Category(category): until for category, until in rows if category in _CATEGORIES}


def tomorrow_morning(now: datetime, zone: ZoneInfo) -> datetime:
    """Snoozed "until tomorrow": until the start of the next day in the school's zone."""
    local = now.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), zone)


async def staff_zone(
    connection: AsyncConnection, account_id: int, *, default_zone: str = DEFAULT_TIMEZONE
) -> ZoneInfo:
    """The time zone of the school of a staff account; `default_zone` when it has none."""
    zone = (
        await connection.execute(
            text(
                "SELECT s.timezone FROM account_links l JOIN staff st ON st.id = l.staff_id"
                " JOIN schools s ON s.id = st.school_id"
                " WHERE l.account_id = :a AND l.revoked_at IS NULL ORDER BY l.id LIMIT 1"
            ),
            {"a": account_id},
        )
    ).scalar()
    return zone_or(zone, default_zone)
