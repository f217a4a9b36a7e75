"""`journalbot access` and `journalbot audit`: who is linked, revoking access, the audit log."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.cli.common import CommandError, command_group, in_range, moment, zone_of
from bot.cli.database import open_session
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subcommands

AUDIT_LIMIT = 10_000


async def cmd_access(settings: Settings, args: argparse.Namespace) -> int:
    from services import linking

    async with open_session(settings) as session:
        if args.access_command == "revoke":
            try:
                person = linking.PersonId.parse(args.person)
                ended = await linking.revoke_person(
                    session, person=person, now=datetime.now(UTC), reason=args.reason
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            print(
                f"{person}: {ended} link(s) revoked, unused codes cancelled; phone login "
                "refused until a new code or `journalbot access restore`"
            )
            return 0
        if args.access_command == "restore":
            try:
                person = linking.PersonId.parse(args.person)
                lifted = await linking.restore_person(
                    session, person=person, now=datetime.now(UTC)
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            print(
                f"{person}: access restored; phone login links again"
                if lifted
                else f"{person}: access was not on hold; nothing changed"
            )
            return 0
        links = await linking.list_links(session, include_revoked=args.all)
    print(f"{len(links)} link(s)")
    for info in links:
        zone = zone_of(info.timezone, settings)
        state = f"revoked {moment(info.revoked_at, zone)}" if info.revoked_at else "active"
        print(
            f"  {info.person!s:<16} {info.name:<32} account {info.account_id:<12} "
            f"since {moment(info.created_at, zone)}  {state}"
        )
    return 0


def _detail(value: object, zone: ZoneInfo) -> str:
    """A detail as printed: moments stored as ISO text (a lockout's end) in the local zone."""
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and "T" in value:
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
        if at.tzinfo is not None:
            return moment(at, zone)
    return str(value)


async def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from services import audit, linking

    in_range("--limit", args.limit, 1, AUDIT_LIMIT)
    try:
        person = linking.PersonId.parse(args.person)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    async with open_session(settings) as session:
        # A person no longer in the journal still has an audit trail: no existence check.
        zone = zone_of(await linking.person_zone(session, person), settings)
        entries = await audit.entries_for_person(
            session, kind=person.kind.value, person_id=person.id, limit=args.limit
        )
    print(f"{person}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, newest first")
    for entry in entries:
        subject = ", ".join(
            f"{name}:{value}"
            for name, value in (
                ("student", entry.student_id),
                ("guardian", entry.guardian_id),
                ("staff", entry.staff_id),
            )
            if value is not None
        )
        details = " ".join(f"{k}={_detail(v, zone)}" for k, v in sorted(entry.details.items()))
        print(
            f"  {moment(entry.at, zone, seconds=True)} {entry.action:<16} "
            f"account={entry.account_id} "
            f"by={entry.actor} {subject} {details}".rstrip()
        )
    return 0


def add_parsers(commands: Subcommands) -> None:
    """`access` and `audit`."""
    access_commands = command_group(
        commands, "access", help="who is linked; revoke and restore access"
    )
    listing = access_commands.add_parser("list", help="every account link")
    listing.add_argument("--all", action="store_true", help="include revoked links")
    revoke = access_commands.add_parser(
        "revoke", help="end every link and unused code of a person at once"
    )
    revoke.add_argument("--person", required=True, help="guardian:ID, student:ID or staff:ID")
    revoke.add_argument("--reason", default="revoked", help="recorded in the audit log")
    restore = access_commands.add_parser(
        "restore", help="let a revoked person link by phone again (a new code does so too)"
    )
    restore.add_argument("--person", required=True, help="guardian:ID, student:ID or staff:ID")

    audit = commands.add_parser("audit", help="the audit log of a person")
    audit.add_argument("--person", required=True, help="guardian:ID, student:ID or staff:ID")
    audit.add_argument("--limit", type=int, default=100, help=f"1 to {AUDIT_LIMIT:,} entries")
