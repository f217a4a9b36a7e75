"""Why an account has no link any more: its own /logout, or the school's revocation (seed 002
§4.3–4.4), which the person is told of at their next message (handlers/common/revoked.py)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The account's links: whether one is live, and why the latest one ended. One index lookup
# (account_links by account) per update.
_ENDED = text(
    """
    SELECT bool_or(revoked_at IS NULL),
           (array_agg(revoked_reason ORDER BY revoked_at DESC NULLS FIRST, id DESC))[1]
    FROM account_links WHERE account_id = :account
    """
)

# The reasons of an ending the person chose themselves: nothing to be told.
OWN_CHOICE = frozenset({"logout"})


async def ended_by_school(session: AsyncSession, account_id: int) -> bool:
    """True when the account is linked to nobody now and its last link was ended by the school
    (`journalbot access revoke`, or "I lost my phone" from another account of the person),
    not by its own /logout."""
    row = (await session.execute(_ENDED, {"account": account_id})).one()
    live, reason = row
    if live is None or live:
        return False
    return reason not in OWN_CHOICE
