"""`journalbot codes`: one-time activation codes for linking accounts, and printable slips."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import CommandError, command_group, in_range, moment, zone_of
from bot.cli.database import open_session
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands


async def _bot_username(settings: Settings) -> str | None:
    if settings.bot_username:
        return settings.bot_username
    if settings.bot_token is None:
        return None
    from bot.app import StartupError, check_bot, create_bot

    bot = create_bot(settings, settings.bot_token.get_secret_value())
    try:
        return await check_bot(bot, settings)
    except StartupError:
        return None
    finally:
        await bot.session.close()


async def cmd_codes(settings: Settings, args: argparse.Namespace) -> int:
    from bot.keys import code_secret
    from services import linking

    in_range("--days", args.days, 1, linking.MAX_TTL_DAYS)
    username = await _bot_username(settings)
    if args.pdf and not username:
        raise CommandError("--pdf needs the bot's username: set BOT_USERNAME (or BOT_TOKEN)")
    now = datetime.now(UTC)
    ttl = timedelta(days=args.days)
    secret = code_secret(settings)
    async with open_session(settings) as session:
        try:
            who: linking.Recipients
            if args.person:
                who = linking.PersonId.parse(args.person)
            elif args.staff:
                who = linking.StaffOf(args.school or await linking.only_school(session))
            else:
                who = linking.ClassOf(args.class_label, args.school)
            issued = await linking.issue(session, who, secret=secret, now=now, ttl=ttl)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        school_id = issued[0].school_id if issued else args.school
        school_name = await linking.school_name(session, school_id) if issued else ""
        zone = zone_of(await linking.school_zone(session, school_id), settings)
        await session.commit()
    link = f"https://t.me/{username}?start=" if username else "/start "
    print(
        f"{len(issued)} code(s), valid until {moment(now + ttl, zone)}; "
        "shown once, keep them safe:"
    )
    for slip in issued:
        print(
            f"  {slip.person!s:<16} {slip.name:<32} {slip.detail:<28} "
            f"{linking.format_code(slip.code)}  {link}{slip.code}"
        )
    if args.pdf:
        assert username is not None
        from bot.i18n import make_i18n
        from services.slips import SlipData, render_slips

        slips = [
            SlipData(s.name, s.detail, s.code, s.expires_at.astimezone(zone), s.person.kind)
            for s in issued
        ]
        # The slips are printed in the bot's default language, as families first meet it.
        i18n = make_i18n(settings.default_locale)
        with i18n.context(), i18n.use_locale(settings.default_locale):
            pdf = render_slips(slips, bot_username=username, school_name=school_name)
        await asyncio.to_thread(Path(args.pdf).write_bytes, pdf)
        print(f"slips written to {args.pdf}")
    return 0


def add_parser(commands: Subcommands) -> None:
    codes_commands = command_group(commands, "codes", help="activation codes for linking accounts")
    issue = codes_commands.add_parser("issue", help="issue one-time codes (shown once)")
    who = issue.add_mutually_exclusive_group(required=True)
    who.add_argument("--class", dest="class_label", help="every student and guardian of a class")
    who.add_argument("--person", help="one person: guardian:ID, student:ID or staff:ID")
    who.add_argument("--staff", action="store_true", help="every member of staff of the school")
    issue.add_argument("--school", type=int, help="school id, when there are several")
    issue.add_argument("--days", type=int, default=14, help="days the codes stay valid, 1 to 90")
    issue.add_argument("--pdf", help="also write printable slips with QR codes to this file")
