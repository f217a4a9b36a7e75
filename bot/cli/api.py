"""`journalbot api`: serve the ingest API; `api token issue|list|revoke`: its bearer tokens."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.cli.common import CommandError, moment, zone_of
from bot.cli.database import open_database, open_session
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands
    from services.ingest.tokens import TokenInfo


async def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    if getattr(args, "api_command", None) == "token":
        return await _token(settings, args)
    return await _serve(settings)


async def _serve(settings: Settings) -> int:
    """Serve until SIGINT or SIGTERM."""
    from bot.api.server import redis_client, start_api_server
    from services.db import migrate

    async with open_database(settings, pool_size=10) as database:
        try:
            revision = await migrate.current_revision(database.engine)
        except OSError as exc:
            raise CommandError(f"cannot connect to the database: {exc}") from None
        if revision is None:
            raise CommandError("the database is empty: run `journalbot db upgrade` first")
        redis = redis_client(settings)
        try:
            runner = await start_api_server(database.engine, settings, redis=redis)
        except OSError as exc:
            raise CommandError(f"cannot listen on {settings.api_host}: {exc.strerror}") from None
        try:
            await _until_signal()
        finally:
            await runner.cleanup()
            if redis is not None:
                with contextlib.suppress(Exception):
                    await redis.aclose()
    return 0


async def _until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _line(info: TokenInfo, settings: Settings) -> str:
    zone = zone_of(info.timezone, settings)
    used = moment(info.last_used_at, zone) if info.last_used_at else "never used"
    state = f"revoked {moment(info.revoked_at, zone)}" if info.revoked_at else "active"
    return (
        f"  {info.id:<6} school {info.school_id:<5} {info.name:<32} "
        f"issued {moment(info.created_at, zone)}  last used: {used}  {state}"
    )


async def _token(settings: Settings, args: argparse.Namespace) -> int:
    from services.ingest import tokens

    async with open_session(settings) as session:
        try:
            if args.token_command == "issue":
                issued = await tokens.issue(session, school_id=args.school, name=args.name)
                await session.commit()
            elif args.token_command == "revoke":
                info = await tokens.revoke(session, token_id=args.id, now=datetime.now(UTC))
                await session.commit()
                print(f"token {info.id} ({info.name}) of school {info.school_id} revoked")
                return 0
            else:
                listed = await tokens.list_tokens(session, school_id=args.school)
                print(f"{len(listed)} token(s)")
                for info in listed:
                    print(_line(info, settings))
                return 0
        except tokens.TokenError as exc:
            raise CommandError(str(exc)) from None
    print(f"token {issued.info.id} ({issued.info.name}) for school {issued.info.school_id}:")
    print(issued.token)
    print(
        "Keep it now: it is shown only this once and stored only as a hash. "
        "Revoke it with `journalbot api token revoke ID`.",
        file=sys.stderr,
    )
    return 0


def add_parser(commands: Subcommands) -> None:
    api = commands.add_parser(
        "api", help="serve the ingest API (API_HOST, API_PORT); `api token` manages its tokens"
    )
    actions = api.add_subparsers(dest="api_command", metavar="ACTION")
    token = actions.add_parser("token", help="the bearer tokens of schools' journal programs")
    token_actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    issue = token_actions.add_parser("issue", help="a new token, shown once")
    issue.add_argument("--school", type=int, required=True)
    issue.add_argument("--name", required=True, help="what uses it, e.g. the journal program")
    listing = token_actions.add_parser("list", help="tokens, revoked ones included")
    listing.add_argument("--school", type=int)
    revoke = token_actions.add_parser("revoke", help="end a token at once")
    revoke.add_argument("id", type=int)
