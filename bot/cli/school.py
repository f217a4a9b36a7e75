"""`journalbot school`: a school's regulation profile, its overrides and deadlines."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import CommandError, command_group, on_engine
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands
    from services.db.session import Engine
    from services.schools import SchoolInfo


def _values(pairs: list[str]) -> dict[str, str]:
    """NAME=VALUE pairs from the command line."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise CommandError(f"expected NAME=VALUE, got {pair!r}")
        values[name.strip()] = value.strip()
    return values


def _print_list(infos: list[SchoolInfo]) -> None:
    from services.profiles import PROFILES

    for info in infos:
        changed = ", ".join(f"{k}={v}" for k, v in sorted(info.overrides.items()))
        print(
            f"{info.id:5d}  {info.name}  [{info.profile_key}] {info.timezone}"
            + (f"  overrides: {changed}" if changed else "")
        )
    print("profiles: " + ", ".join(f"{k} ({p.title})" for k, p in PROFILES.items()))


def _print_rules(info: SchoolInfo) -> None:
    """Every rule with its value (as `school set` takes it) and its clause (SPEC §4)."""
    from services.profile_sources import rules

    print(f"school {info.id}: {info.name}, profile {info.profile_key}, {info.timezone}")
    for rule in rules(info.profile_key, info.overrides):
        print(f"  {rule.name:<22} {rule.value:<10} {rule.source}")


async def cmd_school(settings: Settings, args: argparse.Namespace) -> int:
    from services import schools

    async def show_or_change(engine: Engine) -> int:
        if args.school_command == "list":
            _print_list(await schools.list_schools(engine))
            return 0
        if args.school_command == "contact":
            from services import contact

            enabled = args.state == "on"
            if not await contact.set_enabled(engine, school_id=args.school, enabled=enabled):
                raise schools.SchoolError(f"there is no school {args.school}")
            print(f"school {args.school}: messages to teachers {args.state}")
            return 0
        if args.school_command == "set-profile":
            info = await schools.set_profile(engine, args.school, args.profile)
        elif args.school_command == "set":
            values = _values(args.values)
            info = await schools.set_values(engine, args.school, values, unset=args.unset or [])
        else:
            info = await schools.get_school(engine, args.school)
        _print_rules(info)
        return 0

    return await on_engine(settings, show_or_change, errors=schools.SchoolError)


def add_parser(commands: Subcommands) -> None:
    school_commands = command_group(
        commands, "school", help="a school's regulation profile and deadlines"
    )
    school_commands.add_parser("list", help="schools, their profiles and overrides")
    show = school_commands.add_parser("show", help="the rules in force at a school")
    show.add_argument("--school", type=int, required=True)
    set_profile = school_commands.add_parser("set-profile", help="choose the school's profile")
    set_profile.add_argument("--school", type=int, required=True)
    set_profile.add_argument(
        "profile", help="default, seed000, seed001, seed002, seed003, seed004"
    )
    contact = school_commands.add_parser(
        "contact", help="families' messages to teachers through the bot: on or off"
    )
    contact.add_argument("--school", type=int, required=True)
    contact.add_argument("state", choices=("on", "off"))
    set_values = school_commands.add_parser(
        "set", help="override single values, e.g. written_due=day+5 evening_reminder=19:00"
    )
    set_values.add_argument("--school", type=int, required=True)
    set_values.add_argument("values", nargs="*", metavar="NAME=VALUE")
    set_values.add_argument("--unset", action="append", metavar="NAME", help="back to the profile")
