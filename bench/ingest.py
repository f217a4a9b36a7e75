"""The ingest API: marks per second through it, and from its answer to the family's push.

python -m bench.ingest [--students 1000] [--rounds 3] [--import-marks 100000]

Each figure is printed beside a reference measured in the same run on the same machine:
- marks per second through `journalbot api` (a process of its own) in batches of 1, 100 and
  1 000, eight requests in flight; beside it the same bodies posted to a bare aiohttp handler
  that only parses the JSON (the HTTP ceiling), and a plain asyncpg executemany of as many
  mark rows (the database's ceiling, change-capture triggers on as for the API);
- marks per second through `journalbot import journal` on a file of `--import-marks` marks
  (the school's first load: capture off), beside an executemany of as many rows, capture off;
- the time from the API's answer to the family's sendMessage at the fake Bot API, beside the
  same for a mark committed with plain SQL (`journalbot notify worker` sends both).
Every round runs in a fresh copy of one seeded database; figures are median [min–max].
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
from aiohttp import web
from sqlalchemy import text

from bench.common import command_line, drop_database, scratch_database, server_url
from bench.common import summary as latency_summary
from bench.notify import Region, prepare_small, worker
from bot.testing.fake_api import FakeBotAPI
from services.db.session import asyncpg_dsn, create_engine, create_sessionmaker, with_database
from services.imports.journal_sample import name_roster, write_sample_journal
from services.ingest import tokens

ROOT = Path(__file__).resolve().parents[1]
SIZES = {1: 1_000, 100: 10_000, 1000: 20_000}  # batch size: marks sent per round
IN_FLIGHT = 8
VALUES = "54432"
INSERT_MARK = "INSERT INTO marks (student_id, lesson_id, value) VALUES ($1, $2, '4')"


def spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):9.0f} [{min(values):.0f}–{max(values):.0f}]"


# --- the seeded template and its copies -----------------------------------------------------


async def seed(url: str, students: int) -> tuple[Region, int, str]:
    """The demo school, parents linked, its rows named by program ids; (region, school, token)."""
    region = await prepare_small(url, students)
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            school_id = int(await session.scalar(text("SELECT min(id) FROM schools")) or 0)
            await name_roster(session, school_id)
            await session.execute(
                text(
                    "INSERT INTO external_ids (school_id, kind, external_id, local_id)"
                    " SELECT school_id, 'lesson', 'db-lesson-' || id, id FROM lessons"
                )
            )
            await session.execute(text("UPDATE journal_events SET processed_at = now()"))
            issued = await tokens.issue(session, school_id=school_id, name="bench")
            await session.commit()
    finally:
        await engine.dispose()
    return region, school_id, issued.token


@asynccontextmanager
async def copy_of(server: str, template_url: str) -> AsyncIterator[str]:
    """A fresh database copied from the template (PostgreSQL's TEMPLATE: a file copy)."""
    source = urlsplit(template_url).path.lstrip("/")
    name = f"{source}_{time.monotonic_ns() % 10**9}"
    admin = await asyncpg.connect(asyncpg_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    finally:
        await admin.close()
    try:
        yield with_database(server, name)
    finally:
        await drop_database(server, name)


# --- processes: the API, the bare reference ---------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _until_up(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing answers at {url}")


@asynccontextmanager
async def process(*args: str, url: str, env: dict[str, str] | None = None) -> AsyncIterator[str]:
    """`python *args` until the block ends; `url` is where it answers /healthz."""
    environment = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    environment.update(env or {})
    started = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=environment, cwd=str(ROOT)
    )
    try:
        await _until_up(url)
        yield url
    finally:
        started.terminate()
        await asyncio.wait_for(started.wait(), 30)


def api_process(database_url: str, data: str) -> Any:
    port = _free_port()
    env = {
        "DATABASE_URL": database_url,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "API_RATE": "100000",
        "API_BURST": "100000",
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": data,
        "CODE_SECRET": "bench",
    }
    return process("-m", "bot", "api", url=f"http://127.0.0.1:{port}", env=env)


def bare_process() -> Any:
    port = _free_port()
    return process("-m", "bench.ingest", "--bare-port", str(port), url=f"http://127.0.0.1:{port}")


def serve_bare(port: int) -> None:
    """The reference: an aiohttp handler that parses the JSON and answers, nothing more."""

    async def marks(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        count = len(body["items"]) if "items" in body else 1
        return web.json_response({"counts": {"mark": {"new": count}}})

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=8 << 20)
    app.router.add_post("/api/v1/marks", marks)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- throughput -----------------------------------------------------------------------------


def bodies(region: Region, size: int, count: int, tag: str) -> list[bytes]:
    """`count` new marks in requests of `size`, each for a pupil at a lesson of their class."""
    pupils = region.students
    marks = [
        {
            "external_id": f"{tag}-{size}-{i}",
            "student_ref": f"student-{pupils[i % len(pupils)]}",
            "lesson_ref": f"db-lesson-{region.lesson_of[pupils[i % len(pupils)]]}",
            "value": VALUES[i % len(VALUES)],
        }
        for i in range(count)
    ]
    if size == 1:
        return [json.dumps(m).encode() for m in marks]
    return [json.dumps({"items": marks[i : i + size]}).encode() for i in range(0, count, size)]


async def post_all(url: str, token: str, requests: list[bytes]) -> float:
    """Seconds to post every body, IN_FLIGHT at a time; any answer but 200 stops the bench."""
    queue = list(reversed(requests))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def client(http: aiohttp.ClientSession) -> None:
        while queue:
            body = queue.pop()
            async with http.post(url + "/api/v1/marks", data=body, headers=headers) as answer:
                if answer.status != 200:
                    raise RuntimeError(f"{answer.status}: {await answer.text()}")
                await answer.read()

    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(IN_FLIGHT)))
        return time.perf_counter() - started


async def executemany(url: str, region: Region, count: int, *, capture: bool) -> float:
    """Rows a second of a plain executemany of `count` marks, in one transaction."""
    pupils = region.students
    rows = [
        (pupils[i % len(pupils)], region.lesson_of[pupils[i % len(pupils)]], VALUES[i % 5])
        for i in range(count)
    ]
    pg = await asyncpg.connect(asyncpg_dsn(url))
    try:
        started = time.perf_counter()
        async with pg.transaction():
            if not capture:
                await pg.execute("SET LOCAL journal.capture = 'off'")
            await pg.executemany(
                "INSERT INTO marks (student_id, lesson_id, value) VALUES ($1, $2, $3)", rows
            )
        return count / (time.perf_counter() - started)
    finally:
        await pg.close()


async def throughput(server: str, template: str, region: Region, token: str, rounds: int) -> None:
    api: dict[int, list[float]] = {size: [] for size in SIZES}
    bare: dict[int, list[float]] = {size: [] for size in SIZES}
    plain: list[float] = []
    for r in range(rounds):
        async with copy_of(server, template) as url:
            with tempfile.TemporaryDirectory() as data:
                async with api_process(url, data) as served, bare_process() as reference:
                    for size, count in SIZES.items():
                        requests = bodies(region, size, count, f"r{r}")
                        api[size].append(count / await post_all(served, token, requests))
                        bare[size].append(count / await post_all(reference, token, requests))
            plain.append(await executemany(url, region, SIZES[1000], capture=True))
    print(f"  marks/s through the API, {IN_FLIGHT} requests in flight, median [min–max]:")
    for size in SIZES:
        share = statistics.median(api[size]) / statistics.median(bare[size])
        print(
            f"    batches of {size:>4}: API {spread(api[size])}   bare aiohttp handler"
            f" {spread(bare[size])}  ({share:.0%})"
        )
    print(f"    plain executemany of {SIZES[1000]} marks (triggers on): {spread(plain)} rows/s")


# --- latency --------------------------------------------------------------------------------


def quiet_pupils(region: Region) -> list[int]:
    """Pupils whose parents share no chat: a sibling's message would wait a second per chat."""
    heard: set[int] = set()
    quiet = []
    for student in region.students:
        if heard.isdisjoint(region.guardians_of[student]):
            quiet.append(student)
            heard.update(region.guardians_of[student])
    return quiet


async def _pushed_after(
    api: FakeBotAPI, region: Region, student: int, before: int, t0: float
) -> list[float]:
    await api.wait_for("sendMessage", before + region.chats_of[student], timeout=30)
    return [r.at - t0 for r in api.of("sendMessage")[before:]]


async def latency(server: str, template: str, region: Region, token: str, samples: int) -> None:
    by_api: list[float] = []
    by_sql: list[float] = []
    pupils = quiet_pupils(region)
    async with copy_of(server, template) as url, FakeBotAPI() as fake:
        with tempfile.TemporaryDirectory() as data:
            async with (
                worker(url, fake, NOTIFY_RATE="1000", NOTIFY_CONCURRENCY="32"),
                api_process(url, data) as served,
                aiohttp.ClientSession() as http,
            ):
                pg = await asyncpg.connect(asyncpg_dsn(url))
                headers = {"Authorization": f"Bearer {token}"}
                try:
                    for i, student in enumerate(pupils[: 2 * samples + 2]):
                        before = len(fake.of("sendMessage"))
                        lesson = region.lesson_of[student]
                        if i % 2:
                            await pg.execute(
                                INSERT_MARK,
                                student,
                                lesson,
                            )
                            t0, into = time.time(), by_sql
                        else:
                            mark = {
                                "external_id": f"lat-{i}",
                                "student_ref": f"student-{student}",
                                "lesson_ref": f"db-lesson-{lesson}",
                                "value": "4",
                            }
                            async with http.post(
                                served + "/api/v1/marks", json=mark, headers=headers
                            ) as answer:
                                assert answer.status == 200, await answer.text()
                            t0, into = time.time(), by_api
                        pushed = await _pushed_after(fake, region, student, before, t0)
                        if i >= 2:  # the first of each pays for connections
                            into.extend(pushed)
                        await asyncio.sleep(0.05)
                finally:
                    await pg.close()
    print("  from the answer (API) or the commit (SQL) to the family's sendMessage:")
    print(f"    API {latency_summary(by_api)}")
    print(f"    SQL {latency_summary(by_sql)}")


# --- the file import ------------------------------------------------------------------------


async def file_import(
    server: str, template: str, region: Region, school_id: int, *, marks: int, rounds: int
) -> None:
    through: list[float] = []
    plain: list[float] = []
    with tempfile.TemporaryDirectory() as data:
        path = Path(data) / "journal.xlsx"
        engine = create_engine(template, pool_size=1)
        try:
            async with create_sessionmaker(engine)() as session:
                roster = await name_roster(session, school_id)  # already named: the same ids
        finally:
            await engine.dispose()
        write_sample_journal(path, roster, marks=marks, first_day=date(2026, 9, 1))
        for _ in range(rounds):
            async with copy_of(server, template) as url:
                env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
                env.update(DATABASE_URL=url, DATA_DIR=data, LOG_LEVEL="WARNING", CODE_SECRET="b")
                started = time.perf_counter()
                child = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    "import",
                    "journal",
                    str(path),
                    "--school",
                    str(school_id),
                    env=env,
                    cwd=str(ROOT),
                    stdout=asyncio.subprocess.DEVNULL,
                )
                if await child.wait() != 0:
                    raise RuntimeError("journalbot import journal failed")
                through.append(marks / (time.perf_counter() - started))
                plain.append(await executemany(url, region, marks, capture=False))
    print(f"  marks/s through `journalbot import journal` of {marks} marks (whole process,")
    print(f"  lessons, homework and absences of the file included): {spread(through)}")
    print(
        f"    plain executemany of {marks} marks (capture off, as a first load):"
        f" {spread(plain)} rows/s"
    )


async def main(students: int, rounds: int, import_marks: int, samples: int) -> None:
    server = server_url()
    async with scratch_database(server) as template:
        region, school_id, token = await seed(template, students)
        print(
            f"\ningest benchmark: {students} students, {rounds} rounds, each in a fresh copy of"
            f" the seeded database; {os.cpu_count()} cores"
        )
        await throughput(server, template, region, token, rounds)
        await latency(server, template, region, token, samples)
        await file_import(
            server, template, region, school_id, marks=import_marks, rounds=max(1, rounds - 1)
        )


if __name__ == "__main__":
    parser = command_line(__doc__, students=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--import-marks", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--bare-port", type=int, default=None, help=argparse.SUPPRESS)
    options = vars(parser.parse_args())
    bare_port = options.pop("bare_port")
    if bare_port is not None:
        serve_bare(bare_port)  # the reference server, started by this benchmark
    else:
        asyncio.run(main(**options))
