"""How fast the family screens answer on a region's database, through the real dispatcher.

python -m bench.queries [--students 100000] [--seed 1] [--requests 1000] [--rounds 3]

Builds (or reuses) a database of N students whose journal holds a full school year (seeded as
of the year's last day), links a sample of guardians, and feeds updates to the production
`create_dispatcher()` with the replies going to the fake Bot API over HTTP, as in the tests.
In the same run it measures a bare aiogram handler that answers without the database.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message, Update

from bench.common import command_line, create_database, run_main, server_url, summary
from bot.app import create_bot
from bot.cli.common import ProgressBar
from bot.dispatcher import create_dispatcher
from bot.i18n import make_i18n
from bot.settings import Settings
from bot.testing.fake_api import FakeBotAPI
from handlers.callbacks import MarksCb, MarksView
from services import demo
from services.db import migrate
from services.db.session import asyncpg_dsn, create_engine, create_sessionmaker, with_database

TOKEN = "123456789:BENCH-token-for-the-fake-bot-api"
# Telegram user ids of the benchmark's accounts: far from any real or test id.
FIRST_ACCOUNT = 8_000_000_000
SAMPLE = 500


async def ensure_database(server: str, students: int, seed: int) -> tuple[str, bool]:
    """The url of the benchmark database, building it when it is missing or empty."""
    name = f"journalbot_queries_{students}_s{seed}"
    admin = await asyncpg.connect(asyncpg_dsn(server))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await admin.close()
    if not exists:
        await create_database(server, name)
    url = with_database(server, name)
    engine = create_engine(url, pool_size=2)
    try:
        await migrate.upgrade(engine)
        if await demo.has_schools(engine):
            return url, True
        _first, last = demo.academic_year(datetime.now(UTC).date())
        print(f"building {name}: {students} students, a full school year to {last}")
        started = time.monotonic()
        bar = ProgressBar()
        await demo.seed_demo(engine, seed=seed, students=students, today=last, progress=bar)
        bar.close()
        print(f"built in {time.monotonic() - started:.0f} s")
        return url, False
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Family:
    account_id: int
    child_id: int
    marks: int


async def link_sample(url: str, seed: int) -> list[Family]:
    """Link SAMPLE guardians picked at random (with consent) to benchmark accounts."""
    pg = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with pg.transaction():
            await pg.execute(
                "DELETE FROM accounts WHERE id BETWEEN $1 AND $2",
                FIRST_ACCOUNT,
                FIRST_ACCOUNT + SAMPLE,
            )
            rows = await pg.fetch(
                """
                SELECT g.guardian_id, min(g.student_id) AS child
                FROM guardianships g
                JOIN consents c ON c.student_id = g.student_id AND c.revoked_at IS NULL
                JOIN students s ON s.id = g.student_id
                JOIN classes k ON k.id = s.class_id
                WHERE k.grade > 1
                GROUP BY g.guardian_id
                ORDER BY md5(g.guardian_id::text || $1::text)
                LIMIT $2
                """,
                str(seed),
                SAMPLE,
            )
            families = []
            for index, row in enumerate(rows):
                account = FIRST_ACCOUNT + index
                await pg.execute(
                    "INSERT INTO accounts"
                    " (id, channel_user_id, chat_id, language, selected_student_id)"
                    " VALUES ($1, $1, $1, 'ru', $2)",
                    account,
                    row["child"],
                )
                await pg.execute(
                    "INSERT INTO account_links (account_id, role, guardian_id) "
                    "VALUES ($1, 'guardian', $2)",
                    account,
                    row["guardian_id"],
                )
                marks = await pg.fetchval(
                    "SELECT count(*) FROM marks WHERE student_id = $1", row["child"]
                )
                families.append(Family(account, row["child"], marks))
    finally:
        await pg.close()
    return families


_update_ids = itertools.count(1)


def message_update(bot: Bot, account: int, text: str) -> Update:
    return Update.model_validate(
        {
            "update_id": next(_update_ids),
            "message": {
                "message_id": next(_update_ids),
                "date": int(time.time()),
                "chat": {"id": account, "type": "private", "first_name": "Bench"},
                "from": {
                    "id": account,
                    "is_bot": False,
                    "first_name": "Bench",
                    "language_code": "ru",
                },
                "text": text,
            },
        },
        context={"bot": bot},
    )


def callback_update(bot: Bot, account: int, data: str) -> Update:
    return Update.model_validate(
        {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": str(next(_update_ids)),
                "from": {
                    "id": account,
                    "is_bot": False,
                    "first_name": "Bench",
                    "language_code": "ru",
                },
                "chat_instance": "bench",
                "data": data,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": account, "type": "private", "first_name": "Bench"},
                    "from": {"id": 1, "is_bot": True, "first_name": "Journal"},
                    "text": "…",
                },
            },
        },
        context={"bot": bot},
    )


Maker = Callable[[Family], Update]


@dataclass
class Runner:
    """Feeds updates from the sample families to one dispatcher."""

    dispatcher: Dispatcher
    bot: Bot
    families: list[Family]
    rng: random.Random

    async def timed(self, update: Update) -> float:
        started = time.perf_counter()
        await self.dispatcher.feed_update(self.bot, update)
        return time.perf_counter() - started

    async def latencies(self, make: Maker, count: int) -> list[float]:
        return [await self.timed(make(self.rng.choice(self.families))) for _ in range(count)]

    async def throughput(self, makers: list[Maker], count: int, concurrency: int) -> float:
        """Updates per second for a mix of screens, `concurrency` of them in flight at once."""
        updates = [self.rng.choice(makers)(self.rng.choice(self.families)) for _ in range(count)]
        queue = iter(updates)

        async def worker() -> None:
            for update in queue:
                await self.dispatcher.feed_update(self.bot, update)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)


def bare_dispatcher() -> Dispatcher:
    """aiogram alone: one handler that answers every message without touching a database."""
    dispatcher = Dispatcher()
    router = Router()

    @router.message()
    async def answer(message: Message) -> None:
        await message.answer("ok")

    @router.callback_query()
    async def press(query: Any) -> None:
        await query.answer()

    dispatcher.include_router(router)
    return dispatcher


async def rounds_of(
    label: str, rounds: int, run: Callable[[], Awaitable[list[float]]]
) -> list[float]:
    values: list[float] = []
    per_round = []
    for _ in range(rounds):
        gc.collect()
        result = await run()
        per_round.append(sorted(result)[int(0.95 * (len(result) - 1))] * 1000)
        values.extend(result)
    spread = ", ".join(f"{p:.2f}" for p in per_round)
    print(f"  {label:<22} {summary(values)}  (p95 per round: {spread} ms)")
    return values


async def main(students: int, seed: int, requests: int, rounds: int, concurrency: int) -> None:
    server = server_url()
    url, reused = await ensure_database(server, students, seed)
    families = await link_sample(url, seed)
    marks = sorted(f.marks for f in families)
    engine = create_engine(url, pool_size=concurrency)
    rng = random.Random(seed)
    async with FakeBotAPI() as api:
        bot = create_bot(Settings(telegram_api_url=api.url), TOKEN)
        dispatcher = create_dispatcher(
            sessionmaker=create_sessionmaker(engine),
            i18n=make_i18n(),
            code_secret=b"bench-code-secret",
        )
        journal_bot = Runner(dispatcher, bot, families, rng)
        bare = Runner(bare_dispatcher(), bot, families, rng)
        screens: dict[str, Maker] = {
            "marks screen": lambda f: message_update(bot, f.account_id, "📘 Отметки"),
            "homework screen": lambda f: message_update(bot, f.account_id, "📝 Домашнее задание"),
            "forecast screen": lambda f: callback_update(
                bot, f.account_id, MarksCb(s=f.child_id, v=MarksView.FORECAST).pack()
            ),
        }
        print(
            f"\nqueries benchmark: {students} students ({'reused' if reused else 'new'} "
            f"database), {len(families)} linked guardians, marks per child in the year: "
            f"median {statistics.median(marks):.0f} (min {marks[0]}, max {marks[-1]})"
        )
        print(f"  {requests} updates per round, {rounds} rounds; in process, through")
        print("  create_dispatcher(), replies sent over HTTP to the fake Bot API")
        # Warm the pool, the catalogues and PostgreSQL's caches alike for both.
        for make in screens.values():
            await journal_bot.latencies(make, 200)
        await bare.latencies(screens["marks screen"], 200)
        results = {}
        for label, make in screens.items():
            results[label] = await rounds_of(
                label,
                rounds,
                lambda make=make: journal_bot.latencies(make, requests),  # type: ignore[misc]
            )
        bare_values = await rounds_of(
            "bare aiogram handler",
            rounds,
            lambda: bare.latencies(screens["marks screen"], requests),
        )
        makers = list(screens.values())
        mixed = [
            await journal_bot.throughput(makers, requests, concurrency) for _ in range(rounds)
        ]
        bare_rate = [await bare.throughput(makers, requests, concurrency) for _ in range(rounds)]
        bare_p50 = statistics.median(bare_values)
        print(
            f"  mixed screens, {concurrency} in flight: "
            f"{statistics.median(mixed):7.0f} updates/s (rounds: "
            + ", ".join(f"{v:.0f}" for v in mixed)
            + ")"
        )
        print(
            f"  bare handler,  {concurrency} in flight: "
            f"{statistics.median(bare_rate):7.0f} updates/s (rounds: "
            + ", ".join(f"{v:.0f}" for v in bare_rate)
            + ")"
        )
        for label, values in results.items():
            print(
                f"  {label:<22} p50 is {statistics.median(values) / bare_p50:5.1f}× the bare "
                "handler's"
            )
        print(
            f"  throughput ratio (mixed / bare): "
            f"{statistics.median(mixed) / statistics.median(bare_rate):.2f}"
        )
        target = sorted(results["marks screen"])[int(0.95 * (len(results["marks screen"]) - 1))]
        verdict = "meets" if target < 0.020 else "misses"
        print(f"  marks screen p95 {target * 1000:.2f} ms: {verdict} the 20 ms target")
        await bot.session.close()
    await engine.dispose()


if __name__ == "__main__":
    parser = command_line(__doc__, students=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    run_main(main, parser)
