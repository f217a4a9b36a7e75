"""A correction or removal of a mark whose message has not gone out yet takes its place.

Seed 003 §8.6: marks are not altered, errors are fixed (within seven days) and a correction
is never silent. A mark corrected before its message was sent (held, in quiet hours, waiting
for the evening digest) is told once, as a correction from the first value the family was not
yet told to the latest one, with the latest reason (both read when sent); a mark removed
before anyone heard of it is not told at all.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications.changes import JournalEvent
from services.notifications.payloads import Digest, FamilyItem, MarkChange, Payload, decode, encode


def superseded(queued: MarkChange, event: JournalEvent, item: MarkChange) -> MarkChange | None:
    """A queued message about a mark brought up to its correction or removal `item`; None
    for a mark removed before its message went out."""
    if item.action == "removed" and queued.action == "new":
        return None
    # The value the family saw (a correction already queued), or the first one it never saw.
    was = queued.was if queued.action != "new" else (event.old or {}).get("value")
    action = "removed" if item.action == "removed" else "corrected"
    return queued.model_copy(update={"mark_id": event.row_id, "action": action, "was": was})


def fold(payload: Payload, replaced: int, event: JournalEvent, item: MarkChange) -> Payload | None:
    """`payload` with its news of the mark revision `replaced` brought up to `item`: None
    when nothing is left to tell, `payload` itself when it does not tell of that revision."""
    if isinstance(payload, MarkChange):
        return superseded(payload, event, item) if payload.mark_id == replaced else payload
    if not isinstance(payload, Digest):
        return payload
    items: list[FamilyItem] = []
    found = False
    for queued in payload.items:
        if isinstance(queued, MarkChange) and queued.mark_id == replaced:
            found = True
            folded = superseded(queued, event, item)
            items.extend(() if folded is None else (folded,))
        else:
            items.append(queued)
    if not found:
        return payload
    return payload.model_copy(update={"items": tuple(items)}) if items else None


def keys(replaced: int) -> tuple[str, str]:
    """The queue keys under which news of the revision `replaced` may wait."""
    return f"mark:{replaced}", "digest"


def new_key(key: str, event: JournalEvent) -> str:
    """A message's key once it tells of the event's revision: a digest keeps its own."""
    return key if key == "digest" else f"mark:{event.row_id}"


_PENDING = text(
    """
    SELECT id, payload FROM notifications
    WHERE account_id = :account AND dedup_key = :key AND status = 'pending'
    FOR UPDATE
    """
)
_CANCEL = text("UPDATE notifications SET status = 'cancelled' WHERE id = :id")
_REWRITE = text(
    "UPDATE notifications SET payload = CAST(:payload AS jsonb), dedup_key = :key WHERE id = :id"
)


async def fold_queued(
    connection: AsyncConnection, account_id: int, event: JournalEvent, item: MarkChange
) -> bool:
    """Fold a correction or removal into the account's queued message about the revision it
    replaces; False when no such message waits (the correction is then queued on its own)."""
    replaced = (event.new or {}).get("replaces_id")
    if replaced is None:
        return False
    for key in keys(replaced):
        row = (await connection.execute(_PENDING, {"account": account_id, "key": key})).first()
        if row is None:
            continue
        notification_id, stored = row
        queued = decode(stored)
        folded = fold(queued, replaced, event, item)
        if folded is queued:
            continue
        if folded is None:
            await connection.execute(_CANCEL, {"id": notification_id})
        else:
            await connection.execute(
                _REWRITE,
                {"payload": encode(folded), "key": new_key(key, event), "id": notification_id},
            )
        return True
    return False
