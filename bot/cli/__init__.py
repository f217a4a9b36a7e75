"""The `journalbot` command line: the parser, and one module per command group."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import warnings
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from bot.cli import access, api, archive, codes, db, demo, imports, notify, people, run, school
from bot.cli.common import CommandError
from bot.settings import Settings, SettingsError, load_settings

__all__ = ["build_parser", "main"]

COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "run": run.cmd_run,
    "db": db.cmd_db,
    "seed-demo": demo.cmd_seed_demo,
    "demo": demo.cmd_demo,
    "codes": codes.cmd_codes,
    "access": access.cmd_access,
    "audit": access.cmd_audit,
    "notify": notify.cmd_notify,
    "school": school.cmd_school,
    "shell": demo.cmd_shell,
    "api": api.cmd_api,
    "import": imports.cmd_import,
    "people": people.cmd_people,
    "archive": archive.cmd_archive,
}


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiogram logs every handled update at INFO with user ids; keep that out of normal logs.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="platformdirs")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="journalbot",
        description="Telegram front end of a school's electronic journal.",
        epilog="Configuration comes from the environment or .env: BOT_TOKEN, DATABASE_URL, "
        "TELEGRAM_API_URL, REDIS_URL, WEBHOOK_URL, WEBHOOK_SECRET. Without DATABASE_URL an "
        "embedded PostgreSQL is started in ./.journalbot.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # In the order `journalbot --help` lists them.
    run.add_parser(commands)
    db.add_parser(commands)
    demo.add_seed_parser(commands)
    codes.add_parser(commands)
    access.add_parsers(commands)
    notify.add_parser(commands)
    school.add_parser(commands)
    api.add_parser(commands)
    imports.add_parser(commands)
    people.add_parser(commands)
    archive.add_parser(commands)
    demo.add_chat_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"journalbot: configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    try:
        return asyncio.run(COMMANDS[args.command](settings, args))
    except CommandError as exc:
        print(f"journalbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
