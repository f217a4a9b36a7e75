"""How many wrong codes an account may try: its own budget, tightened during a flood."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import Action
from services.db import models as m

MAX_FAILURES_PER_ACCOUNT = 5
FAILURE_WINDOW = timedelta(hours=1)
# A flood: this many wrong codes from all accounts within GLOBAL_WINDOW (1,200 an hour). While
# it lasts, an account linked to nobody (the kind a guess run is made of) may get only
# MAX_FAILURES_IN_FLOOD wrong codes an hour, one typo and its correction. A right code is looked
# up before any of this matters, so other people's failures never refuse it.
FLOOD_FAILURES = 200
GLOBAL_WINDOW = timedelta(minutes=10)
MAX_FAILURES_IN_FLOOD = 2


@dataclass(frozen=True, slots=True)
class Budget:
    failures: Sequence[datetime]  # the account's recent failures, newest first
    allowed: int

    @property
    def flood(self) -> bool:
        """Locked (or nearly) by a flood's budget, where its own would not have been."""
        strict = self.allowed < MAX_FAILURES_PER_ACCOUNT
        return strict and len(self.failures) < MAX_FAILURES_PER_ACCOUNT

    @property
    def locked_until(self) -> datetime | None:
        if len(self.failures) < self.allowed:
            return None
        # Free again one window after the failure that used up the budget.
        return self.failures[self.allowed - 1] + FAILURE_WINDOW

    @property
    def left(self) -> int:
        return max(self.allowed - len(self.failures), 0)


async def _recent_failures(
    session: AsyncSession, account_id: int, now: datetime
) -> Sequence[datetime]:
    return (
        (
            await session.execute(
                select(m.AuditEntry.at)
                .where(
                    m.AuditEntry.account_id == account_id,
                    m.AuditEntry.action == Action.CODE_FAILED.value,
                    m.AuditEntry.at > now - FAILURE_WINDOW,
                    m.AuditEntry.at <= now,
                )
                .order_by(m.AuditEntry.at.desc())
                .limit(MAX_FAILURES_PER_ACCOUNT)
            )
        )
        .scalars()
        .all()
    )


async def flood(session: AsyncSession, *, now: datetime) -> bool:
    """Whether wrong codes from all accounts together are coming at a guess run's pace."""
    recent = (
        select(m.AuditEntry.id)
        .where(
            m.AuditEntry.action == Action.CODE_FAILED.value,
            m.AuditEntry.at > now - GLOBAL_WINDOW,
            m.AuditEntry.at <= now,
        )
        .limit(FLOOD_FAILURES)  # counting stops at the threshold, however big the flood
        .subquery()
    )
    count = await session.scalar(select(func.count()).select_from(recent))
    return int(count or 0) >= FLOOD_FAILURES


async def _is_linked(session: AsyncSession, account_id: int) -> bool:
    found = await session.scalar(
        select(m.AccountLink.id)
        .where(m.AccountLink.account_id == account_id, m.AccountLink.revoked_at.is_(None))
        .limit(1)
    )
    return found is not None


async def budget_of(session: AsyncSession, account_id: int, now: datetime) -> Budget:
    failures = await _recent_failures(session, account_id, now)
    # An account without failures is never locked: its code is looked up at once.
    if failures and await flood(session, now=now) and not await _is_linked(session, account_id):
        # The stricter budget counts only the failures made during the flood: a parent who
        # mistyped a code before it began keeps the tries they were told they had.
        before = sum(1 for at in failures if at <= now - GLOBAL_WINDOW)
        allowed = min(MAX_FAILURES_PER_ACCOUNT, before + MAX_FAILURES_IN_FLOOD)
        return Budget(failures, allowed)
    return Budget(failures, MAX_FAILURES_PER_ACCOUNT)
