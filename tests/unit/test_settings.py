"""Settings: read from the environment, one clear line per bad value."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import DEFAULT_TELEGRAM_API_URL, SettingsError, load_settings
from tests.fixtures.cli import ENVIRONMENT_SETTINGS

TOKEN = "123456789:AAAbbbCCCdddEEEfffGGGhhhIIIjjj"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ENVIRONMENT_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))  # no stray .env


def test_defaults() -> None:
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.database_url is None
    assert settings.telegram_api_url == DEFAULT_TELEGRAM_API_URL
    assert settings.default_locale == "ru"


def test_values_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/journal")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    settings = load_settings()
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)  # the token never reaches logs by accident
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/journal"
    assert settings.telegram_api_url == "http://127.0.0.1:8081"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_TOKEN", "not-a-token"),
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("TELEGRAM_API_URL", "ftp://example"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_LOCALE", "de"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{name}:")
    assert "\n" not in message


def test_webhook_needs_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.school.example")
    with pytest.raises(SettingsError, match=r"^WEBHOOK_SECRET:"):
        load_settings()


def test_command_line_prints_one_line_not_a_traceback(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "current"],
        env={"BOT_TOKEN": "nonsense", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=str(tmp_path),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "journalbot: configuration error: BOT_TOKEN: expected the form "
        "123456789:ABC... that @BotFather gives"
    ]
    assert "Traceback" not in result.stderr
