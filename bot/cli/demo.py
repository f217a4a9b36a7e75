"""`journalbot seed-demo`, `demo` and `shell`: the demo school and the chats that show it."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from bot.cli.common import CommandError, ProgressBar
from bot.cli.database import database_url, open_database
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands
    from services.demo import DemoSummary


async def _seed(
    settings: Settings,
    *,
    seed: int,
    students: int | None,
    replace: bool,
    url: str | None = None,
) -> DemoSummary:
    from services import demo
    from services.db import migrate

    bar = ProgressBar()
    try:
        async with open_database(settings, pool_size=2, url=url) as database:
            await migrate.upgrade(database.engine)
            return await demo.seed_demo(
                database.engine, seed=seed, students=students, progress=bar, replace=replace
            )
    except demo.DemoError as exc:
        raise CommandError(str(exc)) from None
    finally:
        bar.close()


async def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    started = time.monotonic()
    summary = await _seed(settings, seed=args.seed, students=args.students, replace=args.replace)
    print(f"demo data loaded in {time.monotonic() - started:.1f} s: {summary.describe()}")
    return 0


async def _database_is_empty(settings: Settings, url: str) -> bool:
    from services.db import migrate
    from services.demo import has_schools

    async with open_database(settings, url=url) as database:
        await migrate.upgrade(database.engine)
        return not await has_schools(database.engine)


async def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot import demo as demo_ui

    url = database_url(settings)
    print(demo_ui.describe_database(settings))
    if await _database_is_empty(settings, url):
        print("The database is empty: loading the demo school (about a minute)...")
        summary = await _seed(settings, seed=args.seed, students=None, replace=False, url=url)
        print(f"Demo school ready: {summary.describe()}")
    else:
        print("Using the demo school already in the database.")
    return await demo_ui.run_demo(settings, url)


async def cmd_shell(settings: Settings, args: argparse.Namespace) -> int:
    """The offline chat, reading lines from standard input and printing the transcript."""
    from bot import demo as demo_ui
    from services.demo.sandbox import Role

    url = database_url(settings)
    if await _database_is_empty(settings, url):
        print("(loading the demo school first)", file=sys.stderr)
        await _seed(settings, seed=args.seed, students=None, replace=False, url=url)
    return await demo_ui.run_demo(settings, url, role=Role(args.role), interactive=False)


def add_seed_parser(commands: Subcommands) -> None:
    seed = commands.add_parser("seed-demo", help="fill the database with a demo school")
    seed.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    seed.add_argument(
        "--students", type=int, default=None, help="a region of this many students (benchmarks)"
    )
    seed.add_argument(
        "--replace", action="store_true", help="delete the journal's data before loading"
    )


def add_chat_parsers(commands: Subcommands) -> None:
    """`shell` and `demo`."""
    shell = commands.add_parser(
        "shell", help="the demo's offline chat reading standard input (scripts, tests)"
    )
    shell.add_argument(
        "--as",
        dest="role",
        default="parent",
        choices=["parent", "student", "teacher", "class-teacher", "deputy"],
    )
    shell.add_argument("--seed", type=int, default=1)

    demo = commands.add_parser("demo", help="try the bot: embedded database, demo school")
    demo.add_argument("--seed", type=int, default=1)
