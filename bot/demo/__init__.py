"""The demo's interactive side (SPEC §6): the start-up of `journalbot demo` and `shell` here,
the offline chat in shell.py, what the bot sent as a terminal shows it in terminal.py; the
demo school and the sandbox are services/demo/."""

from __future__ import annotations

import sys

from bot.settings import Settings
from services.demo.sandbox import Role


def describe_database(settings: Settings) -> str:
    if settings.database_url:
        return "Database: DATABASE_URL"
    return f"Database: embedded PostgreSQL in {settings.data_dir.resolve() / 'pgdata'}"


async def run_demo(
    settings: Settings, database_url: str, *, role: Role = Role.PARENT, interactive: bool = True
) -> int:
    """With BOT_TOKEN the real bot and codes to link one's own account; without, the offline
    chat in this terminal."""
    from services.demo.sandbox import NotDemo

    try:
        return await _run(settings, database_url, role=role, interactive=interactive)
    except (NotDemo, LookupError) as exc:
        print(f"journalbot: {exc}", file=sys.stderr)
        return 1


async def _run(settings: Settings, database_url: str, *, role: Role, interactive: bool) -> int:
    from services.db.session import create_engine

    if settings.bot_token is not None and interactive:
        await _print_codes(settings, database_url)
        from bot.app import ProcessFailed, StartupError, run_bot

        print("BOT_TOKEN is set: starting the real bot. Press Ctrl-C to stop.")
        try:
            await run_bot(settings, database_url)
        except (StartupError, ProcessFailed) as exc:
            # One line, as `journalbot run` says it, not a traceback.
            print(f"journalbot: {exc}", file=sys.stderr)
            return 1
        return 0
    import logging

    from bot.demo.shell import chat

    # The chat is the screen: the log keeps to warnings unless asked for more.
    if logging.getLogger().level < logging.WARNING and settings.log_level == "INFO":
        logging.getLogger().setLevel(logging.WARNING)
    engine = create_engine(database_url)
    try:
        await chat(
            settings,
            engine,
            database_url,
            role=role,
            interactive=interactive,
            files_dir=settings.data_dir / "demo-files",
        )
    finally:
        await engine.dispose()
    return 0


async def _print_codes(settings: Settings, database_url: str) -> None:
    """One-time codes for a demo parent, student and teacher: send one to the bot."""
    from bot.keys import code_secret
    from services.db.session import create_engine
    from services.demo import sandbox

    engine = create_engine(database_url, pool_size=1)
    try:
        cast = await sandbox.cast(engine)
        print("Link your own Telegram account: send the bot one of these codes (valid 14 days)")
        for role, title in (
            (Role.PARENT, "a parent of two children"),
            (Role.STUDENT, "a student"),
            (Role.TEACHER, "a teacher"),
            (Role.CLASS_TEACHER, "a class teacher"),
        ):
            code = await sandbox.link_code(engine, cast.person(role), code_secret(settings))
            print(f"  {title:<26} /start {code}")
    finally:
        await engine.dispose()
