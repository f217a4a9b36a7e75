"""Push notifications end to end: latency, rate limits, throughput, a quarter's end.

python -m bench.notify [--students 5000] [--region-students 100000] [--skip-quarter]

The sender is the real `journalbot notify worker` in a process of its own; this process writes
marks with plain SQL (as any program may) and plays Telegram with the fake Bot API, whose
request times give the latencies. Figures: commit → sendMessage latency idle and under a
backlog; the achieved rate against a 30/s limit and the fastest any single chat was sent to;
messages per second and CPU of the worker with the limit at 1000/s; and for a region of
100 000 students, 12 final grades each inserted at once, the time until every message is
queued and the worker's peak memory.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from bench.common import (
    command_line,
    drop_database,
    link_everyone,
    linked_demo,
    run_main,
    scratch_database,
    server_url,
    summary,
    worker_environment,
)
from bench.queries import ensure_database
from bot.testing.fake_api import FakeBotAPI
from services.db.session import asyncpg_dsn, with_database

ROOT = Path(__file__).resolve().parents[1]


def _proc(pid: int) -> tuple[float, int]:
    """(CPU seconds, peak RSS in kB) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    peak = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1])
    return cpu, peak


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / ticks, sum(values) / ticks


@asynccontextmanager
async def worker(
    url: str, api: FakeBotAPI, **env: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    environment = worker_environment(url, api.url, **env)
    with tempfile.TemporaryDirectory() as data:
        environment["DATA_DIR"] = data
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "notify", "worker", env=environment, cwd=str(ROOT)
        )
        try:
            await asyncio.sleep(1.5)  # connected and listening
            yield process
        finally:
            if process.returncode is None:
                process.terminate()
                await asyncio.wait_for(process.wait(), 30)


@dataclass
class Region:
    url: str
    students: list[int]  # students with linked guardians, each parent in a chat of their own
    lesson_of: dict[int, int]  # a lesson of the student's class
    chats_of: dict[int, int]  # how many chats hear of each student
    guardians_of: dict[int, list[int]]  # whose chats those are


async def prepare_small(url: str, students: int) -> Region:
    """The demo school of `students` in the empty database at `url`, every parent linked."""
    async with linked_demo(url, seed=3, students=students) as pg:
        rows = await pg.fetch(
            """
            SELECT s.id, min(l.id) AS lesson,
                   (SELECT count(*) FROM guardianships g WHERE g.student_id = s.id) AS chats,
                   (SELECT array_agg(g.guardian_id) FROM guardianships g
                    WHERE g.student_id = s.id) AS guardians
            FROM students s
            JOIN consents c ON c.student_id = s.id AND c.revoked_at IS NULL
            JOIN lessons l ON l.class_id = s.class_id AND l.subgroup_id IS NULL
            JOIN classes k ON k.id = s.class_id AND k.grade > 1
            GROUP BY s.id
            """
        )
    return Region(
        url,
        [r["id"] for r in rows if r["chats"]],
        {r["id"]: r["lesson"] for r in rows},
        {r["id"]: r["chats"] for r in rows},
        {r["id"]: list(r["guardians"] or []) for r in rows},
    )


async def insert_marks(pg: asyncpg.Connection, region: Region, students: list[int]) -> float:
    """One oral mark for each student, in one statement; returns the commit time."""
    await pg.execute(
        """
        INSERT INTO marks (student_id, lesson_id, value)
        SELECT s, l, '4' FROM unnest($1::bigint[], $2::bigint[]) AS t(s, l)
        """,
        students,
        [region.lesson_of[s] for s in students],
    )
    return time.time()


async def wait_sent(api: FakeBotAPI, count: int, seconds: float) -> None:
    await api.wait_for("sendMessage", count, timeout=seconds)


async def latency_idle(
    api: FakeBotAPI, region: Region, samples: int
) -> tuple[list[float], list[int]]:
    pg = await asyncpg.connect(asyncpg_dsn(region.url))
    values: list[float] = []
    # Idle means a quiet chat: a sibling's message within the second would wait for
    # Telegram's one message a second per chat, which is not the pipeline's latency.
    heard: set[int] = set()
    quiet = []
    for student in region.students:
        if heard.isdisjoint(region.guardians_of[student]):
            quiet.append(student)
            heard.update(region.guardians_of[student])
    try:
        # The first message after a start pays for connections and prepared statements.
        await insert_marks(pg, region, [quiet[0]])
        await wait_sent(api, len(api.of("sendMessage")) + region.chats_of[quiet[0]], 30)
        for student in quiet[1 : samples + 1]:
            before = len(api.of("sendMessage"))
            committed = await insert_marks(pg, region, [student])
            await wait_sent(api, before + region.chats_of[student], 30)
            arrived = api.of("sendMessage")[before:]
            values.extend(r.at - committed for r in arrived)
            await asyncio.sleep(0.05)
    finally:
        await pg.close()
    return values, quiet[: samples + 1]


async def burst(
    api: FakeBotAPI, region: Region, students: list[int], seconds: float
) -> tuple[list[float], list[float]]:
    """Marks for many students at once: (latencies, arrival times) of every message."""
    pg = await asyncpg.connect(asyncpg_dsn(region.url))
    try:
        before = len(api.of("sendMessage"))
        expected = sum(region.chats_of[s] for s in students)
        committed = await insert_marks(pg, region, students)
        await wait_sent(api, before + expected, seconds)
    finally:
        await pg.close()
    arrived = api.of("sendMessage")[before : before + expected]
    return [r.at - committed for r in arrived], [r.at for r in arrived]


def per_chat_max_rate(api: FakeBotAPI, since: int) -> float:
    times: dict[int, list[float]] = defaultdict(list)
    for request in api.of("sendMessage")[since:]:
        times[int(request.params["chat_id"])].append(request.at)
    gaps = [b - a for ts in times.values() for a, b in itertools.pairwise(ts)]
    return 1 / min(gaps) if gaps else 0.0


async def quarter_end(server: str, region_students: int, api: FakeBotAPI) -> None:
    source_url, _ = await ensure_database(server, region_students, 1)
    source = urlsplit(source_url).path.lstrip("/")
    name = f"{source}_quarter"
    await drop_database(server, name)
    admin = await asyncpg.connect(asyncpg_dsn(server))
    try:
        started = time.monotonic()
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        print(f"  copied the region's database in {time.monotonic() - started:.0f} s")
    finally:
        await admin.close()
    url = with_database(server, name)
    try:
        pg = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await link_everyone(pg)
            accounts = await pg.fetchval("SELECT count(*) FROM accounts WHERE is_active")
            await pg.execute("UPDATE journal_events SET processed_at = now()")
            period = await pg.fetchval(
                "SELECT min(id) FROM periods WHERE kind IN ('quarter', 'trimester') AND number = 2"
            )
            async with worker(url, api, NOTIFY_RATE="1000", NOTIFY_CONCURRENCY="32") as process:
                started = time.monotonic()
                rows = await pg.execute(
                    """
                    INSERT INTO final_grades (student_id, subject_id, period_id, value)
                    SELECT st.id, sub.id, p.id, '4'
                    FROM students st
                    JOIN academic_years y ON y.school_id = st.school_id
                    JOIN periods p ON p.academic_year_id = y.id AND p.number = 2
                                  AND p.kind IN ('quarter', 'trimester')
                    CROSS JOIN LATERAL (
                        SELECT id FROM subjects WHERE school_id = st.school_id
                        ORDER BY id LIMIT 12) sub
                    """
                )
                inserted = time.monotonic()
                for _ in range(7200):
                    if not await pg.fetchval(
                        "SELECT EXISTS (SELECT 1 FROM journal_events WHERE processed_at IS NULL)"
                    ):
                        break
                    await asyncio.sleep(0.5)
                queued_at = time.monotonic()
                queued = await pg.fetchval("SELECT count(*) FROM notifications")
                _, peak = _proc(process.pid)
            print(
                f"  quarter end: {rows.split()[-1]} final grades of {region_students} students"
                f" (period {period}) in one statement: {inserted - started:.1f} s to insert"
            )
            print(
                f"  every message queued {queued_at - inserted:.1f} s after the commit:"
                f" {queued} messages for {accounts} linked parents, one per child"
            )
            print(f"  worker peak memory (VmHWM) {peak / 1024:.0f} MB")
        finally:
            await pg.close()
    finally:
        await drop_database(server, name)


async def main(students: int, region_students: int, skip_quarter: bool) -> None:
    server = server_url()
    async with scratch_database(server) as url:
        region = await prepare_small(url, students)
        print(
            f"\nnotify benchmark: {students} students, {len(region.students)} with linked "
            f"parents ({sum(region.chats_of.values())} chats); worker = `journalbot notify worker`"
        )
        async with FakeBotAPI() as api:
            async with worker(region.url, api, NOTIFY_RATE="1000", NOTIFY_CONCURRENCY="32"):
                idle, used = await latency_idle(api, region, 100)
                print(f"  latency idle           {summary(idle)}")
            rest = [s for s in region.students if s not in set(used)]
            half = len(rest) // 2
            async with worker(
                region.url, api, NOTIFY_RATE="1000", NOTIFY_CONCURRENCY="32"
            ) as process:
                cpu_before, _ = _proc(process.pid)
                busy_before, total_before = _machine()
                wall = time.monotonic()
                latencies, arrivals = await burst(api, region, rest[:half], 120)
                wall = time.monotonic() - wall
                cpu_after, peak = _proc(process.pid)
                busy_after, total_after = _machine()
                rate = len(arrivals) / (max(arrivals) - min(arrivals))
                print(f"  latency, backlog of {len(arrivals)} at once {summary(latencies)}")
                print(
                    f"  limit 1000/s: {rate:.0f} messages/s, worker CPU "
                    f"{(cpu_after - cpu_before) / wall * 100:.0f} % of one core, "
                    f"peak memory {peak / 1024:.0f} MB; the whole machine "
                    f"(PostgreSQL, fake Bot API, worker) "
                    f"{(busy_after - busy_before) / (total_after - total_before) * 100:.0f} % "
                    f"busy on {os.cpu_count()} cores"
                )
            since = len(api.of("sendMessage"))
            async with worker(region.url, api, NOTIFY_RATE="30", NOTIFY_CONCURRENCY="8"):
                chosen = rest[half : half + 400]
                # Two marks each, so chats get more than one message.
                _, arrivals = await burst(api, region, chosen, 120)
                _, more = await burst(api, region, chosen, 120)
                times = sorted(arrivals + more)
                steady = times[30:]  # after the first second
                achieved = (len(steady) - 1) / (steady[-1] - steady[0])
                print(
                    f"  limit 30/s: achieved {achieved:.1f}/s = {achieved / 30 * 100:.0f} % "
                    f"of the limit over {len(times)} messages; fastest single chat "
                    f"{per_chat_max_rate(api, since):.2f} messages/s"
                )
            if not skip_quarter:
                await quarter_end(server, region_students, api)


if __name__ == "__main__":
    parser = command_line(__doc__, students=5000)
    parser.add_argument("--region-students", type=int, default=100_000)
    parser.add_argument("--skip-quarter", action="store_true")
    run_main(main, parser)
