"""`journalbot db`: database migrations."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import command_group, on_engine
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands
    from services.db.session import Engine


async def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    from services.db import migrate

    async def migrate_or_show(engine: Engine) -> int:
        if args.db_command == "upgrade":
            await migrate.upgrade(engine, args.revision)
            print(f"database at revision {await migrate.current_revision(engine)}")
        elif args.db_command == "downgrade":
            await migrate.downgrade(engine, args.revision)
            print(f"database at revision {await migrate.current_revision(engine) or 'base'}")
        else:
            print(await migrate.current_revision(engine) or "base (empty)")
        return 0

    return await on_engine(
        settings, migrate_or_show, errors=OSError, message="cannot connect to the database: {}"
    )


def add_parser(commands: Subcommands) -> None:
    db_commands = command_group(commands, "db", help="database migrations")
    upgrade = db_commands.add_parser("upgrade", help="migrate to the newest schema")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_commands.add_parser("downgrade", help="migrate back to REVISION")
    downgrade.add_argument("revision")
    db_commands.add_parser("current", help="show the schema revision")
