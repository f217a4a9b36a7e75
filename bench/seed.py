"""How long the demo region of N students takes to load, and how big it is.

python -m bench.seed [--students 100000] [--seed 1] [--keep]
"""

from __future__ import annotations

import time

from sqlalchemy import text

from bench.common import command_line, run_main, scratch_database, server_url
from bot.cli.common import ProgressBar
from services import demo
from services.db import migrate
from services.db.session import create_engine

TABLES = [
    "students",
    "guardians",
    "staff",
    "lessons",
    "homework",
    "marks",
    "attendance",
    "final_grades",
]


async def main(students: int, seed: int, keep: bool) -> None:
    async with scratch_database(server_url(), keep=keep) as url:
        engine = create_engine(url, pool_size=2)
        try:
            started = time.monotonic()
            await migrate.upgrade(engine)
            migrated = time.monotonic()
            bar = ProgressBar()
            summary = await demo.seed_demo(engine, seed=seed, students=students, progress=bar)
            bar.close()
            loaded = time.monotonic()
            async with engine.connect() as connection:
                size = (
                    await connection.execute(text("SELECT pg_database_size(current_database())"))
                ).scalar_one()
                rows = {
                    t: (await connection.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()
                    for t in TABLES
                }
            print(f"\nseed benchmark: {students} students, seed {seed}")
            print(f"  migrations          {migrated - started:8.1f} s")
            print(f"  load (incl. ANALYZE) {loaded - migrated:7.1f} s")
            print(f"  students per second {students / (loaded - migrated):8.0f}")
            print(f"  database size       {size / 1024 / 1024:8.0f} MB")
            print(f"  schools             {summary.counts.get('schools', 0):8d}")
            for table, count in rows.items():
                print(f"  {table:<19} {count:8d}")
            if keep:
                print(f"kept: {url}")
        finally:
            await engine.dispose()


if __name__ == "__main__":
    parser = command_line(__doc__, students=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    run_main(main, parser)
