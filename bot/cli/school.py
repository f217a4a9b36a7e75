"""`journalbot school`: a school's regulation profile, its overrides and deadlines."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import CommandError, command_group
from bot.cli.database import open_database
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands


async def cmd_school(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import fields

    from services import schools
    from services.profiles import PROFILES, Profile

    async with open_database(settings) as database:
        engine = database.engine
        try:
            if args.school_command == "list":
                for info in await schools.list_schools(engine):
                    changed = ", ".join(f"{k}={v}" for k, v in sorted(info.overrides.items()))
                    print(
                        f"{info.id:5d}  {info.name}  [{info.profile_key}] {info.timezone}"
                        + (f"  overrides: {changed}" if changed else "")
                    )
                print("profiles: " + ", ".join(f"{k} ({p.title})" for k, p in PROFILES.items()))
                return 0
            if args.school_command == "set-profile":
                info = await schools.set_profile(engine, args.school, args.profile)
            elif args.school_command == "set":
                values: dict[str, str] = {}
                for pair in args.values:
                    name, sep, value = pair.partition("=")
                    if not sep:
                        raise CommandError(f"expected NAME=VALUE, got {pair!r}")
                    values[name.strip()] = value.strip()
                info = await schools.set_values(
                    engine, args.school, values, unset=args.unset or []
                )
            else:
                info = await schools.get_school(engine, args.school)
        except schools.SchoolError as exc:
            raise CommandError(str(exc)) from None
    print(f"school {info.id}: {info.name}, profile {info.profile_key}, {info.timezone}")
    profile = info.profile
    for field in fields(Profile):
        if field.name in {"key", "title"}:
            continue
        mark = " (override)" if field.name in info.overrides else ""
        print(f"  {field.name:<22} {getattr(profile, field.name)}{mark}")
    return 0


def add_parser(commands: Subcommands) -> None:
    school_commands = command_group(
        commands, "school", help="a school's regulation profile and deadlines"
    )
    school_commands.add_parser("list", help="schools, their profiles and overrides")
    show = school_commands.add_parser("show", help="the rules in force at a school")
    show.add_argument("--school", type=int, required=True)
    set_profile = school_commands.add_parser("set-profile", help="choose the school's profile")
    set_profile.add_argument("--school", type=int, required=True)
    set_profile.add_argument("profile", help="default, seed000, seed001, seed002, seed004")
    set_values = school_commands.add_parser(
        "set", help="override single values, e.g. written_due=day+5 evening_reminder=19:00"
    )
    set_values.add_argument("--school", type=int, required=True)
    set_values.add_argument("values", nargs="*", metavar="NAME=VALUE")
    set_values.add_argument("--unset", action="append", metavar="NAME", help="back to the profile")
