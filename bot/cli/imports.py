"""`journalbot import`: a roster (or journal) file into the database, and blank templates.

Every file goes through one runner: read → check every row → report the problems → apply in
one transaction → roll back for a dry run, else audit and commit → a summary. A format adds a
subcommand (a small function) and hands the runner its reader and writer.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import hashlib
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.cli.common import CommandError, command_group, moment, zone_of
from bot.cli.database import open_session
from bot.cli.progress import Progress, progress_bar
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands
    from services.db.session import Session
    from services.imports.tabular import BadRow, Checked, Table
    from services.ingest.tally import Tally

T = TypeVar("T")
PROGRESS_FROM_ROWS = 1000  # smaller files are done before a bar would be worth drawing
SHOWN_PROBLEMS = 200
SHOWN_CHANGES = 500
# The summary's rows, in this order; kinds a format counts beyond these follow them.
KINDS = ("class", "class_teacher", "subgroup", "student", "guardian", "guardianship", "staff")


@dataclass(frozen=True)
class Run:
    """How records are applied: `complete` when the file is whole (no row skipped)."""

    complete: bool
    now: datetime
    progress: Progress | None


@dataclass(frozen=True)
class Format(Generic[T]):
    """A kind of file: how it is read and checked, and how its records are written."""

    name: str
    read: Callable[[Session, int, Sequence[Table]], Awaitable[Checked[T]]]
    apply: Callable[[Session, int, T, Run], Awaitable[Tally]]


async def _school(session: Session, school: int | None) -> int:
    from services import linking

    try:
        await linking.check_school(session, school)
        return school if school is not None else await linking.only_school(session)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _tables(path: Path) -> tuple[list[Table], str]:
    """The file's tables and its SHA-256 (for the audit log)."""
    from services.imports.tabular import UnreadableFile, read_tables

    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return read_tables(path), digest
    except (OSError, UnreadableFile) as exc:
        raise CommandError(str(exc)) from None


def _report(problems: Sequence[BadRow]) -> None:
    for problem in problems[:SHOWN_PROBLEMS]:
        print(f"journalbot: {problem}", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"journalbot: … and {len(problems) - SHOWN_PROBLEMS} more", file=sys.stderr)


@contextmanager
def _progress(rows: int) -> Iterator[Progress | None]:
    """A rich progress bar on stderr for large files; nothing for small ones."""
    if rows < PROGRESS_FROM_ROWS:
        yield None
        return
    with progress_bar(label_width=12, bar_per_stage=True) as step:
        yield step


def _actor() -> str:
    """Who imported: the operating-system account that ran the command, when it has a name."""
    try:
        return f"cli:{getpass.getuser()}"[:32]
    except (KeyError, OSError):
        return "cli"


def _summary(tally: Tally, *, title: str, dry_run: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable

    from services.ingest.tally import Outcome

    print(title)
    table = RichTable(box=box.SIMPLE)
    for header in ("kind", "new", "changed", "unchanged", "left"):
        table.add_column(header, justify="left" if header == "kind" else "right")
    order = [k for k in KINDS if k in tally.counts] + [k for k in tally.counts if k not in KINDS]
    for kind in order:
        counts = tally.counts[kind]
        table.add_row(
            kind, *(str(n) for n in (counts.new, counts.changed, counts.unchanged, counts.left))
        )
    console = Console(file=sys.stdout, highlight=False, width=100)
    console.print(table)
    if dry_run:
        # What matters most first: who would leave, then what would change, then what is new.
        rank = {Outcome.LEFT: 0, Outcome.CHANGED: 1, Outcome.NEW: 2}
        changes = sorted(tally.changes, key=lambda c: rank.get(c.outcome, 3))
        for change in changes[:SHOWN_CHANGES]:
            fields = f" ({', '.join(change.fields)})" if change.fields else ""
            print(f"  {change.kind} {change.external_id}: {change.outcome.value}{fields}")
        if len(tally.changes) > SHOWN_CHANGES:
            print(f"  … and {len(tally.changes) - SHOWN_CHANGES} more")


async def run_import(settings: Settings, args: argparse.Namespace, fmt: Format[T]) -> int:
    """The one way a file is imported; non-zero, with nothing written, on any bad row
    unless --skip-bad-rows (then nothing is marked left either: a skipped row is no proof
    that its person left)."""
    from services import audit, linking

    path = Path(args.file)
    tables, digest = _tables(path)
    now = datetime.now(UTC)
    async with open_session(settings) as session:
        school_id = await _school(session, args.school)
        zone = zone_of(await linking.school_zone(session, school_id), settings)
        checked = await fmt.read(session, school_id, tables)
        problems = checked.problems
        _report(problems.items)
        if problems and not args.skip_bad_rows:
            raise CommandError(
                f"{len(problems)} problem(s) in {len(problems.bad_rows)} row(s) of {path.name}: "
                "nothing written (fix the file, or --skip-bad-rows to import the rest)"
            )
        with _progress(checked.rows) as progress:
            try:
                run = Run(complete=not problems, now=now, progress=progress)
                tally = await fmt.apply(session, school_id, checked.value, run)
            except ValueError as exc:
                await session.rollback()
                raise CommandError(f"{path.name}: {exc}; nothing written") from None
        if args.dry_run:
            await session.rollback()
        else:
            audit.record(
                session,
                audit.Action.IMPORTED,
                actor=_actor(),
                at=now,
                details={
                    "format": fmt.name,
                    "school_id": school_id,
                    "file": path.name,
                    "sha256": digest,
                    "counts": tally.as_dict(),
                    "skipped_rows": len(problems.bad_rows),
                },
            )
            await session.commit()
    verb = "would import (dry run, nothing written)" if args.dry_run else "imported"
    title = f"{path.name}: {fmt.name} {verb}, school {school_id}, {moment(now, zone)}"
    _summary(tally, title=title, dry_run=args.dry_run)
    if problems:
        print(f"{len(problems.bad_rows)} bad row(s) skipped; nobody was marked left")
    return 0


# --- the formats ---------------------------------------------------------------------------


async def _read_roster(session: Session, school_id: int, tables: Sequence[Table]) -> Any:
    from services.imports.roster import read_roster

    return await read_roster(session, school_id, tables)


async def _apply_roster(session: Session, school_id: int, roster: Any, run: Run) -> Tally:
    from services.ingest.roster import apply_roster

    return await apply_roster(
        session, school_id, roster, complete=run.complete, now=run.now, progress=run.progress
    )


ROSTER: Format[Any] = Format("roster", _read_roster, _apply_roster)


async def import_roster(settings: Settings, args: argparse.Namespace) -> int:
    return await run_import(settings, args, ROSTER)


async def _read_journal(session: Session, school_id: int, tables: Sequence[Table]) -> Any:
    from services.imports.journal import read_journal

    return read_journal(tables)


def _journal_writer(
    args: argparse.Namespace,
) -> Callable[[Session, int, Any, Run], Awaitable[Tally]]:
    """The journal's writer, with the command's --backfill choice and --skip-bad-rows: rows
    only the database can refuse (an unknown class or pupil) are found while writing."""

    async def apply(session: Session, school_id: int, checked: Any, run: Run) -> Tally:
        from services.imports.journal import apply_checked

        applied, refused = await apply_checked(
            session, school_id, checked, backfill=args.backfill, progress=run.progress
        )
        _report(refused)
        if refused and not args.skip_bad_rows:
            raise ValueError(f"{len(refused)} row(s) refer to what the school does not have")
        if applied.backfill:
            print("first load (back-fill): change capture off, families are not notified")
        else:
            print("later load: new and changed rows are notified to families")
        return applied.tally

    return apply


async def import_journal(settings: Settings, args: argparse.Namespace) -> int:
    return await run_import(
        settings, args, Format("journal", _read_journal, _journal_writer(args))
    )


async def write_template(settings: Settings, args: argparse.Namespace) -> int:
    """The blank workbook, to a file or to stdout (never to a terminal: it is binary)."""
    from services.imports.template import TEMPLATES

    data = TEMPLATES[args.kind]()
    if args.output:
        await asyncio.to_thread(Path(args.output).write_bytes, data)
        print(f"template written to {args.output}")
        return 0
    if sys.stdout.isatty():
        raise CommandError(
            f"the template is a binary file: journalbot import template {args.kind} > "
            f"{args.kind}.xlsx"
        )
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return 0


SUBCOMMANDS: dict[str, Callable[[Settings, argparse.Namespace], Awaitable[int]]] = {
    "roster": import_roster,
    "journal": import_journal,
    "template": write_template,
}


async def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    return await SUBCOMMANDS[args.import_command](settings, args)


def add_file_options(parser: argparse.ArgumentParser) -> None:
    """What every file import takes: the file, the school, --dry-run, --skip-bad-rows."""
    parser.add_argument("file", metavar="FILE", help="an .xlsx workbook or a .csv file")
    parser.add_argument("--school", type=int, help="school id, when there are several")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change and write nothing"
    )
    parser.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="import the good rows when some are bad (nobody is then marked left)",
    )


def add_parser(commands: Subcommands) -> None:
    group = command_group(commands, "import", help="import a roster file; blank templates")
    roster = group.add_parser("roster", help="classes, subgroups, pupils, guardians and staff")
    add_file_options(roster)
    add_journal_parser(group)
    template = group.add_parser("template", help="a blank XLSX with an example row")
    template.add_argument("kind", choices=sorted(TEMPLATE_KINDS), help="which file")
    template.add_argument("-o", "--output", help="write to this file instead of stdout")


# Known without importing openpyxl: `--help` stays fast. The journal adds "journal".
TEMPLATE_KINDS = {"roster", "journal"}


def add_journal_parser(group: Subcommands) -> None:
    journal = group.add_parser(
        "journal", help="lessons, homework, marks, attendance and final grades"
    )
    add_file_options(journal)
    journal.add_argument(
        "--backfill",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="load history without notifying families (default: only the school's first load)",
    )
