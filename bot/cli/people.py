"""`journalbot people find`: who is who, with the ids `codes` and `access revoke` take."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import CommandError, command_group
from bot.cli.database import open_session
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands


async def cmd_people(settings: Settings, args: argparse.Namespace) -> int:
    from services import linking
    from services.people import find_people

    async with open_session(settings) as session:
        try:
            await linking.check_school(session, args.school)
            school = args.school if args.school is not None else await linking.only_school(session)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        found = await find_people(session, args.text, school_id=school)
    if not found:
        print(
            f"Nobody in school {school} matches {args.text!r}; try part of a name, a class "
            "such as 5Б, a phone number or the journal program's code."
        )
        return 0
    print(f"{len(found)} found for {args.text!r} in school {school}:")
    for person in found:
        classes = ", ".join(person.classes) or "-"
        code = f"code {person.external_id}" if person.external_id else "no code"
        state = "linked" if person.linked else "not linked"
        if person.left:
            state += ", left"
        print(f"  {person.person!s:<16} {person.name:<36} {classes:<12} {code:<16} {state}")
    return 0


def add_parser(commands: Subcommands) -> None:
    group = command_group(commands, "people", help="find pupils, guardians and staff")
    find = group.add_parser(
        "find", help="by part of a name, a class (5Б), a phone or the program's code"
    )
    find.add_argument("text", metavar="TEXT")
    find.add_argument("--school", type=int, help="school id, when there are several")
