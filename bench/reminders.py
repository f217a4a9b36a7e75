"""Teachers' reminders on a region: the time to compute every teacher's reminders.

python -m bench.reminders [--students 100000] [--rounds 3]

Uses (or builds) the database of bench/queries.py: a full school year of a region. "Now" is
20:05 on the last school day, when the evening reminders run. Every member of staff gets a
linked account, in a transaction that is rolled back, so reminders are really queued. Figures
per round: the gaps of every school; the evening run (gaps, recipients, the once-a-day log,
the queue) for every school; the weekly summaries to class teachers and deputies.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta

from sqlalchemy import text

from bench.common import command_line, run_main, server_url, summary
from bench.queries import ensure_database
from services import reminders, reports
from services.db.session import create_engine
from services.reminders import Run

_LINK_STAFF = text(
    """
    INSERT INTO accounts (id, channel_user_id, chat_id, language)
    SELECT 800000000 + s.id, 800000000 + s.id, 800000000 + s.id, 'ru' FROM staff s
    ON CONFLICT (id) DO NOTHING;
    """
)
_LINK_STAFF_LINKS = text(
    """
    INSERT INTO account_links (account_id, role, staff_id)
    SELECT 800000000 + s.id, 'staff', s.id FROM staff s
    WHERE NOT EXISTS (SELECT 1 FROM account_links l WHERE l.staff_id = s.id)
    """
)


async def main(students: int, rounds: int) -> None:
    url, reused = await ensure_database(server_url(), students, 1)
    engine = create_engine(url, pool_size=2)
    try:
        async with engine.connect() as connection:
            last_day = (
                await connection.execute(text("SELECT max(ends_on) FROM academic_years"))
            ).scalar_one()
            counts = (
                await connection.execute(
                    text(
                        "SELECT (SELECT count(*) FROM schools), (SELECT count(*) FROM staff),"
                        " (SELECT count(*) FROM lessons WHERE date > CAST(:d AS date) - 31)"
                    ),
                    {"d": last_day},
                )
            ).one()
            schools = await reminders.schools(connection)
        zone = schools[0].zone
        now = datetime.combine(last_day, datetime.min.time(), zone) + timedelta(
            hours=20, minutes=5
        )
        print(
            f"\nreminders benchmark: {students} students, {counts[0]} schools, {counts[1]} staff, "
            f"{counts[2]} lessons in the {reminders.LOOKBACK_DAYS}-day window; "
            f"now = {now:%Y-%m-%d %H:%M} ({'reused' if reused else 'built'} database)"
        )
        gaps_total: list[float] = []
        evening_total: list[float] = []
        weekly_total: list[float] = []
        per_school: list[float] = []
        found = told = queued = weekly = 0
        for _ in range(rounds):
            async with engine.connect() as connection:
                transaction = await connection.begin()
                await connection.execute(_LINK_STAFF)
                await connection.execute(_LINK_STAFF_LINKS)
                started = time.perf_counter()
                found = 0
                for school in schools:
                    found += len(await reminders.school_gaps(connection, school, now))
                gaps_total.append(time.perf_counter() - started)
                started = time.perf_counter()
                told = queued = 0
                for school in schools:
                    one = time.perf_counter()
                    planned = await reminders.queue_reminders(connection, school, Run.EVENING, now)
                    per_school.append(time.perf_counter() - one)
                    told += planned.gaps
                    queued += planned.messages
                evening_total.append(time.perf_counter() - started)
                started = time.perf_counter()
                weekly = 0
                for school in schools:
                    weekly += await reports.queue_weekly_reports(connection, school, now)
                weekly_total.append(time.perf_counter() - started)
                await transaction.rollback()

        def seconds(values: list[float]) -> str:
            return (
                f"median {statistics.median(values):.2f} s (min {min(values):.2f}, "
                f"max {max(values):.2f}, {len(values)} rounds)"
            )

        print(f"  gaps of every school ({found} gaps)        {seconds(gaps_total)}")
        print(
            f"  evening reminders, every teacher ({told} gaps told, {queued} messages queued) "
            f"{seconds(evening_total)}"
        )
        print(f"  per school, evening run                 {summary(per_school)}")
        print(f"  weekly summaries ({weekly} messages)       {seconds(weekly_total)}")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = command_line(__doc__, students=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    run_main(main, parser)
