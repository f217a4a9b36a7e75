"""`journalbot run` and `journalbot notify worker`: the long-running processes."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.cli.common import CommandError
from bot.cli.database import database_url
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import run_bot

    return await _until_stopped(run_bot, settings)


async def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import run_worker

    return await _until_stopped(run_worker, settings)


async def _until_stopped(
    run: Callable[[Settings, str], Awaitable[None]], settings: Settings
) -> int:
    """Run a long-running process; its start-up failure or its end by failure in one line."""
    from bot.app import ProcessFailed, StartupError

    try:
        await run(settings, database_url(settings))
    except (StartupError, ProcessFailed) as exc:
        raise CommandError(str(exc)) from None
    return 0


def add_parser(commands: Subcommands) -> None:
    commands.add_parser("run", help="run the bot (long polling, or a webhook with WEBHOOK_URL)")
