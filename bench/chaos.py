"""Delivery under faults: SIGKILLs of the worker and restarts of PostgreSQL while marks arrive.

python -m bench.chaos [--kills 20] [--restarts 3] [--rate 20] [--seconds 90] [--seed 1]

A PostgreSQL of the benchmark's own (pgserver's binaries, a data directory in a temporary
folder, so that it can be restarted with `pg_ctl restart -m immediate` or `-m fast`) holds a
small demo school whose every guardian is linked, with no quiet hours and no weekly digest. A
real `journalbot notify worker` sends to the fake Bot API in this process while marks are
inserted by plain SQL at a steady rate; at seeded random moments the worker is SIGKILLed (and
started again at once, as a service manager would) and the database restarted. At the end,
once the queue has drained, every message expected (marks committed × their chats) is looked
for among the sendMessage requests by chat and text (each mark is on a lesson of its own, so
each text is unique). Targets: nothing lost, at most the messages in flight
(NOTIFY_CONCURRENCY) sent twice per kill, nothing sent twice because of a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal
from urllib.parse import quote

import asyncpg

from bench.common import linked_demo, worker_environment
from bot.testing.fake_api import FakeBotAPI, Request
from services.db.session import asyncpg_dsn

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "chaos"
Mode = Literal["immediate", "fast"]
# The errors a client sees while the server restarts (a connection cut in the middle of a
# statement may leave asyncpg's protocol in a state it reports as an internal error).
GONE = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    TimeoutError,
)


# --- the database of the benchmark's own -----------------------------------------------------


class Postgres:
    """pgserver's PostgreSQL on a data directory of its own, restartable with pg_ctl."""

    def __init__(self, folder: Path) -> None:
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
        warnings.filterwarnings("ignore", module="platformdirs")
        from pgserver.postgres_server import get_server

        self.server = get_server(folder / "pgdata", cleanup_mode="delete")
        info = self.server.get_postmaster_info()
        if info.socket_dir is None or info.process is None:
            raise RuntimeError("pgserver started no server on a Unix socket")
        # The server's own pg_ctl, next to its postgres binary.
        self.pg_ctl: Path = Path(info.process.exe()).with_name("pg_ctl")
        self.server.psql(f"CREATE DATABASE {DATABASE};")
        host = quote(str(info.socket_dir), safe="")
        # A restart in a thread must not start the server again once it has been stopped.
        self._lock: threading.Lock = threading.Lock()
        self._stopped: bool = False
        self.url: str = f"postgresql+asyncpg://postgres@/{DATABASE}?host={host}&port={info.port}"

    def restart(self, mode: Mode) -> None:
        """Stop (`immediate`: a crash, recovery at start; `fast`: clients cut off) and start."""
        log = str(self.server.pgdata / "log")
        with self._lock:
            if not self._stopped:
                self._pg_ctl("restart", "-m", mode, "-w", "-t", "60", "-l", log)

    def stop(self) -> None:
        # pgserver stops the postmaster it started; after a restart that one is gone, so stop
        # the server here before pgserver deletes its data directory.
        with self._lock:
            self._stopped = True
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self._pg_ctl("stop", "-m", "fast", "-w", "-t", "60")
        self.server.cleanup()

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [str(self.pg_ctl), "-D", str(self.server.pgdata), *args],
            check=True,
            # initdb and postgres refuse to run as root: pgserver then uses a user of its own.
            user=self.server.system_user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=90,
        )


@dataclass
class School:
    students: list[int]
    # Lessons of the student's class, one per subject and day: each mark's text is unique.
    lessons_of: dict[int, list[int]]
    chats_of: dict[int, int]


async def prepare(url: str, students: int) -> School:
    async with linked_demo(url, seed=7, students=students) as pg:
        rows = await pg.fetch(
            """
            SELECT s.id,
                   (SELECT count(*) FROM guardianships g WHERE g.student_id = s.id) AS chats,
                   (SELECT array_agg(id ORDER BY date DESC, subject_id) FROM (
                        SELECT DISTINCT ON (l.date, l.subject_id) l.id, l.date, l.subject_id
                        FROM lessons l
                        WHERE l.class_id = s.class_id AND l.subgroup_id IS NULL
                        ORDER BY l.date, l.subject_id, l.slot) one) AS lessons
            FROM students s
            JOIN consents c ON c.student_id = s.id AND c.revoked_at IS NULL
            JOIN classes k ON k.id = s.class_id AND k.grade > 1
            """
        )
    chosen = [r for r in rows if r["chats"] and r["lessons"]]
    return School(
        [r["id"] for r in chosen],
        {r["id"]: list(r["lessons"]) for r in chosen},
        {r["id"]: int(r["chats"]) for r in chosen},
    )


# --- the worker, killed and started again --------------------------------------------------


class Worker:
    """`journalbot notify worker` in a process of its own, started again whenever it ends."""

    def __init__(self, url: str, api: FakeBotAPI, log: IO[bytes], **env: str) -> None:
        self.environment = worker_environment(url, api.url, HEALTH_PORT="0", **env)
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.exits = 0  # ends of its own (not our SIGKILLs)
        self._stopping = False
        self._watch: asyncio.Task[None] | None = None

    async def start(self, data_dir: str) -> None:
        self.environment["DATA_DIR"] = data_dir
        await self._spawn()
        self._watch = asyncio.create_task(self._keep_alive())

    async def _spawn(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "notify",
            "worker",
            env=self.environment,
            cwd=str(ROOT),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )

    async def kill(self) -> None:
        """SIGKILL, then a new process at once."""
        process = self.process
        assert process is not None
        self.process = None
        if process.returncode is None:
            process.kill()
        await process.wait()
        await self._spawn()

    async def _keep_alive(self) -> None:
        # A worker that gives up exits non-zero for its service manager: we are that manager.
        while not self._stopping:
            process = self.process
            if process is not None and process.returncode is not None:
                self.exits += 1
                await asyncio.sleep(1)
                if self.process is process and not self._stopping:
                    await self._spawn()
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


# --- load and faults ----------------------------------------------------------------------


async def write_marks(url: str, school: School, rate: float, seconds: float) -> int:
    """One mark every 1/rate s, each in its own transaction, round the students; a write that
    meets a restarting server is tried again until it commits. Returns the marks written."""
    # The comment names the mark: a retry whose first try did commit (the answer was lost to
    # the restart) inserts nothing, and the end counts what committed.
    insert = """
        INSERT INTO marks (student_id, lesson_id, value, comment)
        SELECT $1, $2, $3, $4
        WHERE NOT EXISTS (
            SELECT 1 FROM marks WHERE student_id = $1 AND lesson_id = $2 AND comment = $4)
    """
    pg: asyncpg.Connection | None = None
    started = time.monotonic()
    total = int(rate * seconds)
    students = school.students
    for n in range(total):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        student = students[n % len(students)]
        lessons = school.lessons_of[student]
        lesson = lessons[(n // len(students)) % len(lessons)]
        while True:
            try:
                if pg is None or pg.is_closed():
                    pg = await asyncpg.connect(asyncpg_dsn(url), timeout=2)
                await pg.execute(insert, student, lesson, "345"[n % 3], f"chaos:{n}")
                break
            except GONE:
                if pg is not None:
                    pg.terminate()
                pg = None
                await asyncio.sleep(0.1)
    if pg is not None:
        await pg.close()
    return total


@dataclass
class Restart:
    mode: Mode
    began: float
    back: float


@dataclass
class Faults:
    kills: list[float] = field(default_factory=list)
    restarts: list[Restart] = field(default_factory=list)


def plan(rng: random.Random, kills: int, restarts: int, seconds: float) -> list[tuple[float, str]]:
    """When each fault happens (seconds from the start), in order; not in the last quarter,
    so that every fault's consequences show before the marks stop."""
    # Both kinds when there are two or more: a crash (immediate) and a clean stop (fast).
    kinds: list[Mode] = ["immediate", "fast"]
    modes = (kinds * restarts)[:restarts]
    rng.shuffle(modes)
    schedule = [(rng.uniform(0.05, 0.75) * seconds, "kill") for _ in range(kills)]
    schedule += [(rng.uniform(0.1, 0.7) * seconds, modes[i]) for i in range(restarts)]
    return sorted(schedule)


async def run_faults(
    schedule: list[tuple[float, str]], worker: Worker, postgres: Postgres, started: float
) -> Faults:
    done = Faults()
    for at, kind in schedule:
        delay = started + at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if kind == "kill":
            done.kills.append(time.time())
            await worker.kill()
        else:
            mode: Mode = "immediate" if kind == "immediate" else "fast"
            began = time.time()
            await asyncio.to_thread(postgres.restart, mode)
            done.restarts.append(Restart(mode, began, time.time()))
    return done


async def drain(url: str, timeout: float) -> tuple[int, int, float]:  # noqa: ASYNC109
    """Wait until no event is unprocessed and no message pending: (pending, dead, seconds)."""
    started = time.monotonic()
    pending = dead = -1
    while time.monotonic() - started < timeout:
        try:
            pg = await asyncpg.connect(asyncpg_dsn(url), timeout=2)
            try:
                row = await pg.fetchrow(
                    """
                    SELECT (SELECT count(*) FROM journal_events WHERE processed_at IS NULL),
                           count(*) FILTER (WHERE status = 'pending'),
                           count(*) FILTER (WHERE status = 'dead')
                    FROM notifications
                    """
                )
            finally:
                await pg.close()
        except GONE:
            await asyncio.sleep(1)
            continue
        assert row is not None
        events, pending, dead = int(row[0]), int(row[1]), int(row[2])
        if events == 0 and pending == 0:
            break
        await asyncio.sleep(1)
    return pending, dead, time.monotonic() - started


async def committed_marks(url: str) -> tuple[Counter[int], int]:
    """Marks committed per student, and how many a retried insert committed twice (its
    commit went through but the answer was lost to a restart): those repeat a text."""
    pg = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await pg.fetch(
            "SELECT student_id, count(DISTINCT comment), count(*) FROM marks"
            " WHERE comment LIKE 'chaos:%' GROUP BY 1"
        )
    finally:
        await pg.close()
    twice = sum(int(r[2]) - int(r[1]) for r in rows)
    return Counter({int(r[0]): int(r[1]) for r in rows}), twice


# --- the figures --------------------------------------------------------------------------


def first_fault_after(moment: float, faults: Faults) -> tuple[str, int] | None:
    """The fault that a message sent at `moment` and sent again was caught by."""
    candidates = [(t, "kill", i) for i, t in enumerate(faults.kills) if t > moment]
    candidates += [
        (r.began, "restart", i) for i, r in enumerate(faults.restarts) if r.began > moment
    ]
    if not candidates:
        return None
    _, kind, index = min(candidates)
    return kind, index


def report(
    expected: int,
    sent: list[Request],
    faults: Faults,
    *,
    pending: int,
    dead: int,
    concurrency: int,
    exits: int,
) -> bool:
    copies: dict[tuple[int, str], list[float]] = defaultdict(list)
    for request in sent:
        copies[(int(request.params["chat_id"]), str(request.params["text"]))].append(request.at)
    received = len(copies)
    lost = max(expected - received, 0)
    per_kill = [0] * len(faults.kills)
    per_restart = [0] * len(faults.restarts)
    unexplained = 0
    for times in copies.values():
        for _ in times[1:]:
            caught = first_fault_after(times[0], faults)
            if caught is None:
                unexplained += 1
            elif caught[0] == "kill":
                per_kill[caught[1]] += 1
            else:
                per_restart[caught[1]] += 1
    duplicates = len(sent) - received
    print(f"  expected messages  {expected}")
    print(f"  received           {received} distinct ({len(sent)} sendMessage in all)")
    print(f"  lost               {lost}")
    print(
        f"  duplicates         {duplicates}: after kills {sum(per_kill)}, after restarts "
        f"{sum(per_restart)}, with no fault before them {unexplained}"
    )
    worst = max(per_kill, default=0)
    print(f"  per kill           {' '.join(map(str, per_kill)) or '-'} (max {worst})")
    print(f"  per restart        {' '.join(map(str, per_restart)) or '-'}")
    print(f"  dead               {dead}; still pending {pending}; worker exits of its own {exits}")
    times = sorted(request.at for request in sent)
    for i, restart in enumerate(faults.restarts, 1):
        following = next((t for t in times if t > restart.back), None)
        delay = (
            f"{following - restart.began:.2f} s after the restart began, "
            f"{following - restart.back:.2f} s after the database was back"
            if following
            else "never"
        )
        print(
            f"  restart {i} ({restart.mode:9}) database down {restart.back - restart.began:.2f} s;"
            f" next message {delay}"
        )
    ok = (
        lost == 0
        and pending == 0
        and max(per_kill, default=0) <= concurrency
        and sum(per_restart) == 0
        and unexplained == 0
    )
    print(
        f"  targets: 0 lost {'✓' if lost == 0 else '✗'}; at most {concurrency} twice per kill "
        f"{'✓' if max(per_kill, default=0) <= concurrency else '✗'}; 0 twice from restarts "
        f"{'✓' if sum(per_restart) == 0 else '✗'}"
    )
    return ok


async def main(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="journalbot-chaos-") as folder:
        setup = time.monotonic()
        postgres = Postgres(Path(folder))
        try:
            school = await prepare(postgres.url, args.students)
            chats = sum(school.chats_of.values())
            print(
                f"\nchaos benchmark: {len(school.students)} students with linked parents "
                f"({chats} chats), marks at {args.rate}/s for {args.seconds:.0f} s, "
                f"{args.kills} SIGKILLs of the worker, {args.restarts} database restarts "
                f"(seed {args.seed}); set up in {time.monotonic() - setup:.0f} s"
            )
            log_path = Path(folder) / "worker.log"
            with log_path.open("wb") as log, tempfile.TemporaryDirectory() as data:
                async with FakeBotAPI() as api:
                    worker = Worker(
                        postgres.url,
                        api,
                        log,
                        NOTIFY_RATE=str(args.notify_rate),
                        NOTIFY_CONCURRENCY=str(args.concurrency),
                    )
                    await worker.start(data)
                    try:
                        await asyncio.sleep(2)  # connected and listening
                        started = time.monotonic()
                        schedule = plan(rng, args.kills, args.restarts, args.seconds)
                        # A task group: if one fails, the other is cancelled, not left running.
                        async with asyncio.TaskGroup() as group:
                            chaos = group.create_task(
                                run_faults(schedule, worker, postgres, started)
                            )
                            group.create_task(
                                write_marks(postgres.url, school, args.rate, args.seconds)
                            )
                        faults = chaos.result()
                        pending, dead, waited = await drain(postgres.url, args.drain)
                        await asyncio.sleep(1)  # the last answers recorded
                        sent = api.sent_messages()
                    finally:
                        await worker.stop()
            marks, twice = await committed_marks(postgres.url)
            expected = sum(count * school.chats_of[s] for s, count in marks.items())
            print(
                f"  {sum(marks.values())} marks committed"
                + (
                    f" ({twice} twice by a retried insert: their repeats count as duplicates)"
                    if twice
                    else ""
                )
                + f"; queue drained {waited:.0f} s after the last mark"
            )
            ok = report(
                expected,
                sent,
                faults,
                pending=pending,
                dead=dead,
                concurrency=args.concurrency,
                exits=worker.exits,
            )
            if not ok:
                tail = log_path.read_text(errors="replace").splitlines()[-15:]
                print("  the worker's last log lines:\n    " + "\n    ".join(tail))
        finally:
            postgres.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of the worker")
    parser.add_argument("--restarts", type=int, default=3, help="database restarts")
    parser.add_argument("--rate", type=float, default=20.0, help="marks per second")
    parser.add_argument("--seconds", type=float, default=90.0, help="how long marks arrive")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--students", type=int, default=200, help="the demo school's size")
    parser.add_argument("--notify-rate", type=float, default=100.0, help="NOTIFY_RATE")
    parser.add_argument("--concurrency", type=int, default=8, help="NOTIFY_CONCURRENCY")
    parser.add_argument("--drain", type=float, default=150.0, help="seconds to wait at the end")
    sys.exit(asyncio.run(main(parser.parse_args())))
