"""`journalbot archive`: a class's year written for keeping (journals 5 years, summary sheets
25 years: seed 002 §3.4, seed 004 §6.5), and `archive verify` to check an archive again."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.cli.common import CommandError, moment, zone_of
from bot.cli.database import open_database
from bot.cli.progress import progress_bar
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands


async def write(settings: Settings, args: argparse.Namespace) -> int:
    """Checks everything it can before it reads or writes: a bad year, school, class or
    directory is one line and nothing written."""
    from services import archive

    if not args.year or not args.to:
        raise CommandError("give --year and --to DIR (or: journalbot archive verify DIR)")
    try:
        archive.parse_year(args.year)
        destination = archive.check_destination(Path(args.to))
    except archive.ArchiveError as exc:
        raise CommandError(str(exc)) from None
    now = datetime.now(UTC)
    async with open_database(settings) as database, database.sessions() as session:
        try:
            await archive.snapshot(session)
            target = await archive.find_target(
                session, school_id=args.school, year=args.year, class_label=args.class_label
            )
            zone = zone_of(target.timezone, settings)
            with progress_bar(label_width=16, bar_per_stage=False) as progress:
                info = await archive.write_archive(
                    session, target, destination, now=now, zone=zone, progress=progress
                )
        except archive.ArchiveError as exc:
            raise CommandError(str(exc)) from None
    files = sum(len(entry.files) for entry in info.classes) + 2
    print(
        f"archive of {info.year}, school {info.school_id} ({info.school}): "
        f"{len(info.classes)} class(es), {files} files in {destination}, "
        f"written {moment(now, zone)}"
    )
    for entry in info.classes:
        print(
            f"  {entry.klass}: {entry.pupils} pupils, {entry.subjects} subjects, "
            f"{entry.lessons} lessons, {entry.marks} marks ({entry.corrections} corrections), "
            f"{entry.absences} absences, {entry.final_grades} final grades"
        )
    print(f"check it with: journalbot archive verify {destination}")
    return 0


async def verify(settings: Settings, args: argparse.Namespace) -> int:
    """Every file re-hashed: each missing, extra or altered one named; 1 on any problem."""
    from services import archive

    root = Path(args.dir)
    try:
        result = await asyncio.to_thread(archive.verify, root)
    except OSError as exc:
        raise CommandError(f"cannot read {root}: {exc.strerror or exc}") from None
    for problem in result.problems:
        print(f"journalbot: {root}: {problem}", file=sys.stderr)
    about = ""
    if result.info is not None:
        classes = ", ".join(entry.klass for entry in result.info.classes)
        try:
            written = moment(
                datetime.fromisoformat(result.info.written_at), ZoneInfo(result.info.timezone)
            )
        except (ValueError, KeyError):  # an altered manifest.json, reported above
            written = result.info.written_at
        about = (
            f" ({result.info.year}, school {result.info.school_id}, {classes}; written {written})"
        )
    if result.ok:
        print(f"{root}: all {result.checked} files intact{about}")
        return 0
    print(f"{root}: {len(result.problems)} problem(s), {result.checked} files intact{about}")
    return 1


async def cmd_archive(settings: Settings, args: argparse.Namespace) -> int:
    if args.archive_command == "verify":
        return await verify(settings, args)
    return await write(settings, args)


def add_parser(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "archive",
        help="write a class's year (journal, summary sheet) as XLSX and PDF; verify one",
        description="journalbot archive --year 2025/26 [--school ID] [--class 7Б] --to DIR; "
        "journalbot archive verify DIR",
    )
    parser.add_argument("--year", help="the academic year, e.g. 2025/26")
    parser.add_argument("--school", type=int, help="school id, when there are several")
    parser.add_argument(
        "--class", dest="class_label", metavar="CLASS", help="one class (default: every class)"
    )
    parser.add_argument("--to", metavar="DIR", help="a new or empty directory to write into")
    actions = parser.add_subparsers(dest="archive_command", metavar="[verify DIR]")
    check = actions.add_parser("verify", help="re-hash an archive's files against its manifest")
    check.add_argument("dir", metavar="DIR")
