"""`journalbot demo`: what the evaluator sees after the demo school is loaded."""

from __future__ import annotations

from bot.settings import Settings


def describe_database(settings: Settings) -> str:
    if settings.database_url:
        return "Database: DATABASE_URL"
    return f"Database: embedded PostgreSQL in {settings.data_dir.resolve() / 'pgdata'}"


async def run_demo(settings: Settings, database_url: str) -> int:
    if settings.bot_token is not None:
        from bot.app import run_bot

        print("BOT_TOKEN is set: starting the real bot. Press Ctrl-C to stop.")
        await run_bot(settings, database_url)
        return 0
    print(
        "\nThe journal database is ready. What you can do next:\n"
        "  journalbot run              run the bot for real (set BOT_TOKEN from @BotFather)\n"
        "  journalbot seed-demo --replace --seed 2   load a different demo school\n"
        "  journalbot db current       show the schema revision\n"
        "  python -m bot.fake_api      a local Bot API server for trying the bot offline\n"
        "                              (then TELEGRAM_API_URL=http://127.0.0.1:PORT)\n"
    )
    return 0
