"""The families' weekly digest, queued on Sunday evening at each account's digest time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.zones import DEFAULT_TIMEZONE

# The payload is `payloads.Weekly`, built in SQL for every account at once.
_WEEKLY = text(
    """
    INSERT INTO notifications (account_id, chat_id, student_id, category, dedup_key, payload,
                               not_before)
    SELECT a.id, a.chat_id, NULL, 'weekly', 'weekly:' || to_char(t.local_now, 'IYYY-"W"IW'),
           jsonb_build_object('kind', 'weekly',
                              'week_start', t.local_now::date
                                            - (extract(isodow FROM t.local_now)::int - 1)),
           :now
    FROM accounts a
    CROSS JOIN LATERAL (
        -- The school's zone through the account's own student link or a guardian's child:
        -- two index lookups per account (an OR in the join made it a scan of students).
        SELECT coalesce(a.timezone, (
            SELECT s.timezone FROM account_links l
            JOIN students st ON st.id = l.student_id
            JOIN schools s ON s.id = st.school_id
            WHERE l.account_id = a.id AND l.revoked_at IS NULL
            LIMIT 1), (
            SELECT s.timezone FROM account_links l
            JOIN guardianships g ON g.guardian_id = l.guardian_id
            JOIN students st ON st.id = g.student_id
            JOIN schools s ON s.id = st.school_id
            WHERE l.account_id = a.id AND l.revoked_at IS NULL
            LIMIT 1), :zone) AS zone
    ) z
    CROSS JOIN LATERAL (SELECT CAST(:now AS timestamptz) AT TIME ZONE z.zone AS local_now) t
    WHERE a.is_active
      AND extract(isodow FROM t.local_now) = 7
      AND t.local_now::time >= a.digest_time
      AND EXISTS (SELECT 1 FROM account_links l
                  WHERE l.account_id = a.id AND l.revoked_at IS NULL
                    AND (l.guardian_id IS NOT NULL OR l.student_id IS NOT NULL))
      AND NOT EXISTS (SELECT 1 FROM notification_prefs p
                      WHERE p.account_id = a.id AND p.category = 'weekly'
                        AND p.student_id IS NULL AND p.mode = 'off')
    ON CONFLICT (account_id, dedup_key) DO NOTHING
    """
)


def _sunday_somewhere(now: datetime) -> bool:
    """Whether it is Sunday in some time zone (UTC−12 … UTC+14) at `now`."""
    utc = now.astimezone(UTC)
    return any((utc + timedelta(hours=h)).isoweekday() == 7 for h in (-12, 14))


async def schedule_weekly(
    connection: AsyncConnection, *, now: datetime, default_zone: str = DEFAULT_TIMEZONE
) -> int:
    """Queue the weekly digest (SPEC §5: Sunday evening, at the account's digest time) for
    every family account whose Sunday evening has come; once per ISO week. Its content is
    composed when it is sent."""
    if not _sunday_somewhere(now):
        return 0
    result = await connection.execute(_WEEKLY, {"now": now, "zone": default_zone})
    return int(result.rowcount)
