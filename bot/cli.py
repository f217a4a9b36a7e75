"""The `journalbot` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import warnings
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("journalbot")


class CommandError(Exception):
    """A failure to report to the person in one line, without a traceback."""


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


def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server started on demand."""
    if settings.database_url:
        return settings.database_url
    from services.db.embedded import EmbeddedPostgresError, start_embedded

    try:
        return start_embedded(settings.data_dir)
    except EmbeddedPostgresError as exc:
        raise CommandError(str(exc)) from None


def zone_of(name: str | None, settings: Settings) -> ZoneInfo:
    """A school's zone, else the default one: the command line never prints bare UTC."""
    return ZoneInfo(name or settings.default_timezone)


def moment(at: datetime, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """2026-12-01 04:21 MSK (Europe/Moscow): local time, with the zone named."""
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {local:%Z} ({zone.key})"


def in_range(option: str, value: int, low: int, high: int) -> None:
    """Bad numbers stop the command before it touches anything."""
    if not low <= value <= high:
        raise CommandError(f"{option} must be from {low} to {high}, not {value}")


class ProgressBar:
    """A one-line progress bar on stderr for long loads."""

    def __init__(self, width: int = 30) -> None:
        self.width = width
        self.stage = ""
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage and self.stage:
            sys.stderr.write("\n")
        self.stage = stage
        share = done / total if total else 1.0
        filled = int(self.width * share)
        elapsed = time.monotonic() - self.started
        sys.stderr.write(
            f"\r{stage:<24} [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{share:6.1%} {done}/{total}  {elapsed:6.1f}s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.stage:
            sys.stderr.write("\n")


# --- commands ----------------------------------------------------------------------------


async def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    from services.db import migrate
    from services.db.session import create_engine

    engine = create_engine(database_url(settings), pool_size=1)
    try:
        if args.db_command == "upgrade":
            await migrate.upgrade(engine, args.revision)
            print(f"database at revision {await migrate.current_revision(engine)}")
        elif args.db_command == "downgrade":
            await migrate.downgrade(engine, args.revision)
            print(f"database at revision {await migrate.current_revision(engine) or 'base'}")
        else:
            print(await migrate.current_revision(engine) or "base (empty)")
    except OSError as exc:
        raise CommandError(f"cannot connect to the database: {exc}") from None
    finally:
        await engine.dispose()
    return 0


async def _seed(
    settings: Settings, url: str, *, seed: int, students: int | None, replace: bool
) -> Any:
    from services import demo
    from services.db import migrate
    from services.db.session import create_engine

    engine = create_engine(url, pool_size=2)
    bar = ProgressBar()
    try:
        await migrate.upgrade(engine)
        return await demo.seed_demo(
            engine, seed=seed, students=students, progress=bar, replace=replace
        )
    except demo.DemoError as exc:
        raise CommandError(str(exc)) from None
    finally:
        bar.close()
        await engine.dispose()


async def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    started = time.monotonic()
    summary = await _seed(
        settings,
        database_url(settings),
        seed=args.seed,
        students=args.students,
        replace=args.replace,
    )
    print(f"demo data loaded in {time.monotonic() - started:.1f} s: {summary.describe()}")
    return 0


async def _database_is_empty(url: str) -> bool:
    from services.db import migrate
    from services.db.session import create_engine
    from services.demo import has_schools

    engine = create_engine(url, pool_size=1)
    try:
        await migrate.upgrade(engine)
        return not await has_schools(engine)
    finally:
        await engine.dispose()


async def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot import demo as demo_ui

    url = database_url(settings)
    print(demo_ui.describe_database(settings))
    if await _database_is_empty(url):
        print("The database is empty: loading the demo school (about a minute)...")
        summary = await _seed(settings, url, seed=args.seed, students=None, replace=False)
        print(f"Demo school ready: {summary.describe()}")
    else:
        print("Using the demo school already in the database.")
    return await demo_ui.run_demo(settings, url)


async def cmd_shell(settings: Settings, args: argparse.Namespace) -> int:
    """The offline chat, reading lines from standard input and printing the transcript."""
    from bot import demo as demo_ui
    from services.sandbox import Role

    url = database_url(settings)
    if await _database_is_empty(url):
        print("(loading the demo school first)", file=sys.stderr)
        await _seed(settings, url, seed=args.seed, students=None, replace=False)
    return await demo_ui.run_demo(settings, url, role=Role(args.role), interactive=False)


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import ProcessFailed, StartupError, run_bot

    try:
        await run_bot(settings, database_url(settings))
    except (StartupError, ProcessFailed) as exc:
        raise CommandError(str(exc)) from None
    return 0


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
    from datetime import UTC, datetime, timedelta

    from bot.keys import code_secret
    from services import linking
    from services.db.session import create_engine, create_sessionmaker

    in_range("--days", args.days, 1, linking.MAX_TTL_DAYS)
    username = await _bot_username(settings)
    if args.pdf and not username:
        raise CommandError("--pdf needs the bot's username: set BOT_USERNAME (or BOT_TOKEN)")
    engine = create_engine(database_url(settings), pool_size=1)
    now = datetime.now(UTC)
    ttl = timedelta(days=args.days)
    secret = code_secret(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            try:
                if args.person:
                    issued = await linking.issue_for_person(
                        session,
                        person=linking.PersonId.parse(args.person),
                        secret=secret,
                        now=now,
                        ttl=ttl,
                    )
                elif args.staff:
                    school = args.school or await linking.only_school(session)
                    issued = await linking.issue_for_staff(
                        session, school_id=school, secret=secret, now=now, ttl=ttl
                    )
                else:
                    issued = await linking.issue_for_class(
                        session,
                        label=args.class_label,
                        secret=secret,
                        now=now,
                        ttl=ttl,
                        school_id=args.school,
                    )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            school_id = issued[0].school_id if issued else args.school
            school_name = await linking.school_name(session, school_id) if issued else ""
            zone = zone_of(await linking.school_zone(session, school_id), settings)
            await session.commit()
    finally:
        await engine.dispose()
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
        from services.slips import SlipData, render_slips

        assert username is not None
        pdf = render_slips(
            [SlipData(s.name, s.detail, s.code, s.expires_at.astimezone(zone)) for s in issued],
            bot_username=username,
            school_name=school_name,
        )
        await asyncio.to_thread(Path(args.pdf).write_bytes, pdf)
        print(f"slips written to {args.pdf}")
    return 0


async def cmd_access(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from services import linking
    from services.db.session import create_engine, create_sessionmaker

    engine = create_engine(database_url(settings), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            if args.access_command == "revoke":
                try:
                    person = linking.PersonId.parse(args.person)
                    ended = await linking.revoke_person(
                        session, person=person, now=datetime.now(UTC), reason=args.reason
                    )
                except ValueError as exc:
                    raise CommandError(str(exc)) from None
                print(f"{person}: {ended} link(s) revoked, unused codes cancelled")
                return 0
            links = await linking.list_links(session, include_revoked=args.all)
    finally:
        await engine.dispose()
    print(f"{len(links)} link(s)")
    for info in links:
        zone = zone_of(info.timezone, settings)
        state = f"revoked {moment(info.revoked_at, zone)}" if info.revoked_at else "active"
        print(
            f"  {info.person!s:<16} {info.name:<32} account {info.account_id:<12} "
            f"since {moment(info.created_at, zone)}  {state}"
        )
    return 0


AUDIT_LIMIT = 10_000


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
    from services.db.session import create_engine, create_sessionmaker

    in_range("--limit", args.limit, 1, AUDIT_LIMIT)
    try:
        person = linking.PersonId.parse(args.person)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    engine = create_engine(database_url(settings), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            # A person no longer in the journal still has an audit trail: no existence check.
            zone = zone_of(await linking.person_zone(session, person), settings)
            entries = await audit.entries_for_person(
                session, kind=person.kind.value, person_id=person.id, limit=args.limit
            )
    finally:
        await engine.dispose()
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


async def _zone_of_the_school(engine: AsyncEngine, settings: Settings) -> ZoneInfo:
    """The zone of the database's only school; the default zone when there are several."""
    from services import linking
    from services.db.session import create_sessionmaker

    async with create_sessionmaker(engine)() as session:
        try:
            school_id = await linking.only_school(session)
        except ValueError:
            return zone_of(None, settings)
        return zone_of(await linking.school_zone(session, school_id), settings)


async def cmd_notify(settings: Settings, args: argparse.Namespace) -> int:
    from services import delivery
    from services.db.session import create_engine

    url = database_url(settings)
    if args.notify_command == "worker":
        from bot.app import ProcessFailed, StartupError, run_worker

        try:
            await run_worker(settings, url)
        except (StartupError, ProcessFailed) as exc:
            raise CommandError(str(exc)) from None
        return 0
    engine = create_engine(url, pool_size=1)
    try:
        if args.notify_command == "retry-dead":
            count = await delivery.retry_dead(engine)
            print(f"{count} dead message(s) queued again")
            return 0
        state = await delivery.status(engine)
        zone = await _zone_of_the_school(engine, settings)
    finally:
        await engine.dispose()
    oldest = moment(state.oldest_pending, zone, seconds=True) if state.oldest_pending else "—"
    print(f"pending       {state.pending:8d}  (due now {state.due})")
    print(f"oldest        {oldest}")
    print(f"sent, 1 hour  {state.sent_last_hour:8d}")
    print(f"dead          {state.dead:8d}")
    for notification_id, error in state.dead_examples:
        print(f"  #{notification_id}: {error}")
    return 0


async def cmd_school(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import fields

    from services import schools
    from services.db.session import create_engine
    from services.profiles import PROFILES, Profile

    engine = create_engine(database_url(settings), pool_size=1)
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
            info = await schools.set_values(engine, args.school, values, unset=args.unset or [])
        else:
            info = await schools.get_school(engine, args.school)
    except schools.SchoolError as exc:
        raise CommandError(str(exc)) from None
    finally:
        await engine.dispose()
    print(f"school {info.id}: {info.name}, profile {info.profile_key}, {info.timezone}")
    profile = info.profile
    for field in fields(Profile):
        if field.name in {"key", "title"}:
            continue
        mark = " (override)" if field.name in info.overrides else ""
        print(f"  {field.name:<22} {getattr(profile, field.name)}{mark}")
    return 0


# --- parser --------------------------------------------------------------------------------


def _school_parser(commands: Any) -> None:
    school = commands.add_parser("school", help="a school's regulation profile and deadlines")
    school_commands = school.add_subparsers(dest="school_command", required=True, metavar="ACTION")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="journalbot",
        description="Telegram front end of a school's electronic journal.",
        epilog="Configuration comes from the environment or .env: BOT_TOKEN, DATABASE_URL, "
        "TELEGRAM_API_URL, REDIS_URL, WEBHOOK_URL, WEBHOOK_SECRET. Without DATABASE_URL an "
        "embedded PostgreSQL is started in ./.journalbot.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("run", help="run the bot (long polling, or a webhook with WEBHOOK_URL)")

    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="migrate to the newest schema")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_commands.add_parser("downgrade", help="migrate back to REVISION")
    downgrade.add_argument("revision")
    db_commands.add_parser("current", help="show the schema revision")

    seed = commands.add_parser("seed-demo", help="fill the database with a demo school")
    seed.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    seed.add_argument(
        "--students", type=int, default=None, help="a region of this many students (benchmarks)"
    )
    seed.add_argument(
        "--replace", action="store_true", help="delete the journal's data before loading"
    )

    codes = commands.add_parser("codes", help="activation codes for linking accounts")
    codes_commands = codes.add_subparsers(dest="codes_command", required=True, metavar="ACTION")
    issue = codes_commands.add_parser("issue", help="issue one-time codes (shown once)")
    who = issue.add_mutually_exclusive_group(required=True)
    who.add_argument("--class", dest="class_label", help="every student and guardian of a class")
    who.add_argument("--person", help="one person: guardian:ID, student:ID or staff:ID")
    who.add_argument("--staff", action="store_true", help="every member of staff of the school")
    issue.add_argument("--school", type=int, help="school id, when there are several")
    issue.add_argument("--days", type=int, default=14, help="days the codes stay valid, 1 to 90")
    issue.add_argument("--pdf", help="also write printable slips with QR codes to this file")

    access = commands.add_parser("access", help="who is linked; revoke access")
    access_commands = access.add_subparsers(dest="access_command", required=True, metavar="ACTION")
    listing = access_commands.add_parser("list", help="every account link")
    listing.add_argument("--all", action="store_true", help="include revoked links")
    revoke = access_commands.add_parser(
        "revoke", help="end every link and unused code of a person at once"
    )
    revoke.add_argument("--person", required=True, help="guardian:ID, student:ID or staff:ID")
    revoke.add_argument("--reason", default="revoked", help="recorded in the audit log")

    audit = commands.add_parser("audit", help="the audit log of a person")
    audit.add_argument("--person", required=True, help="guardian:ID, student:ID or staff:ID")
    audit.add_argument("--limit", type=int, default=100, help=f"1 to {AUDIT_LIMIT:,} entries")

    notify_parser = commands.add_parser("notify", help="the notification queue")
    notify_commands = notify_parser.add_subparsers(
        dest="notify_command", required=True, metavar="ACTION"
    )
    notify_commands.add_parser("status", help="queue depth, oldest pending, dead messages")
    notify_commands.add_parser("retry-dead", help="queue dead messages again")
    notify_commands.add_parser(
        "worker", help="only deliver notifications (no updates), e.g. as a second process"
    )

    _school_parser(commands)

    shell = commands.add_parser(
        "shell", help="the demo's offline chat reading standard input (scripts, tests)"
    )
    shell.add_argument(
        "--as",
        dest="role",
        default="parent",
        choices=["parent", "student", "teacher", "class-teacher", "deputy"],
    )
    shell.add_argument("--seed", type=int, default=1)

    demo = commands.add_parser("demo", help="try the bot: embedded database, demo school")
    demo.add_argument("--seed", type=int, default=1)
    return parser


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "run": cmd_run,
    "db": cmd_db,
    "seed-demo": cmd_seed_demo,
    "demo": cmd_demo,
    "codes": cmd_codes,
    "access": cmd_access,
    "audit": cmd_audit,
    "notify": cmd_notify,
    "school": cmd_school,
    "shell": cmd_shell,
}


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
