"""`journalbot notify`: the notification queue's state, its dead messages, a worker process."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.cli.common import command_group, moment, zone_of
from bot.cli.database import open_database
from bot.cli.run import cmd_worker
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands
    from services.db.session import Session


async def _zone_of_the_school(session: Session, settings: Settings) -> ZoneInfo:
    """The zone of the database's only school; the default zone when there are several."""
    from services import linking

    try:
        school_id = await linking.only_school(session)
    except ValueError:
        return zone_of(None, settings)
    return zone_of(await linking.school_zone(session, school_id), settings)


async def cmd_notify(settings: Settings, args: argparse.Namespace) -> int:
    from services.notifications import queue

    if args.notify_command == "worker":
        return await cmd_worker(settings, args)
    async with open_database(settings) as database:
        if args.notify_command == "retry-dead":
            count = await queue.retry_dead(database.engine)
            print(f"{count} dead message(s) queued again")
            return 0
        state = await queue.status(database.engine)
        async with database.sessions() as session:
            zone = await _zone_of_the_school(session, settings)
    oldest = moment(state.oldest_pending, zone, seconds=True) if state.oldest_pending else "—"
    print(f"pending       {state.pending:8d}  (due now {state.due})")
    print(f"oldest        {oldest}")
    print(f"sent, 1 hour  {state.sent_last_hour:8d}")
    print(f"dead          {state.dead:8d}")
    for notification_id, error in state.dead_examples:
        print(f"  #{notification_id}: {error}")
    return 0


def add_parser(commands: Subcommands) -> None:
    notify_commands = command_group(commands, "notify", help="the notification queue")
    notify_commands.add_parser("status", help="queue depth, oldest pending, dead messages")
    notify_commands.add_parser("retry-dead", help="queue dead messages again")
    notify_commands.add_parser(
        "worker", help="only deliver notifications (no updates), e.g. as a second process"
    )
