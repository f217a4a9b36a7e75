"""What every command group shares: the one-line error, argument checks and printed times."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias
from zoneinfo import ZoneInfo

from bot.settings import Settings

if TYPE_CHECKING:
    from services.db.session import Engine

    # What `add_subparsers()` returns; each group adds its commands to it.
    Subcommands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


class CommandError(Exception):
    """A failure to report to the person in one line, without a traceback."""


def command_group(commands: Subcommands, name: str, *, help: str) -> Subcommands:
    """`journalbot NAME ACTION ...`: a group of commands; the action lands in `NAME_command`."""
    group = commands.add_parser(name, help=help)
    return group.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION")


async def on_engine(
    settings: Settings,
    action: Callable[[Engine], Awaitable[int]],
    *,
    errors: type[Exception],
    message: str = "{}",
) -> int:
    """Runs `action` on the database's engine; the `errors` it expects end the command in one
    line, `message` with the error in it."""
    # Imported here: bot.cli.database reports its own failures with CommandError from this module.
    from bot.cli.database import open_database

    async with open_database(settings) as database:
        try:
            return await action(database.engine)
        except errors as exc:
            raise CommandError(message.format(exc)) from None


def zone_of(name: str | None, settings: Settings) -> ZoneInfo:
    """A school's zone, else the default one: the command line never prints bare UTC."""
    return ZoneInfo(name or settings.default_timezone)


def moment(at: datetime, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """2026-12-01 04:21 MSK (Europe/Moscow): local time, with the zone named."""
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {local:%Z} ({zone.key})"


def in_range(option: str, value: int, low: int, high: int) -> None:
    """Bad numbers stop the command before it touches anything."""
    if not low <= value <= high:
        raise CommandError(f"{option} must be from {low} to {high}, not {value}")


class ProgressBar:
    """A one-line progress bar on stderr for long loads."""

    def __init__(self, width: int = 30) -> None:
        self.width = width
        self.stage = ""
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage and self.stage:
            sys.stderr.write("\n")
        self.stage = stage
        share = done / total if total else 1.0
        filled = int(self.width * share)
        elapsed = time.monotonic() - self.started
        sys.stderr.write(
            f"\r{stage:<24} [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{share:6.1%} {done}/{total}  {elapsed:6.1f}s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.stage:
            sys.stderr.write("\n")
