"""`journalbot run` and `journalbot notify worker`: the long-running processes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import CommandError
from bot.cli.database import database_url
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import ProcessFailed, StartupError, run_bot

    try:
        await run_bot(settings, database_url(settings))
    except (StartupError, ProcessFailed) as exc:
        raise CommandError(str(exc)) from None
    return 0


async def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import ProcessFailed, StartupError, run_worker

    try:
        await run_worker(settings, database_url(settings))
    except (StartupError, ProcessFailed) as exc:
        raise CommandError(str(exc)) from None
    return 0


def add_parser(commands: Subcommands) -> None:
    commands.add_parser("run", help="run the bot (long polling, or a webhook with WEBHOOK_URL)")
