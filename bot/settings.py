"""Typed settings from the environment or `.env`."""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.zones import DEFAULT_TIMEZONE

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class SettingsError(Exception):
    """A missing or malformed setting, described in one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    # For deep links on printed code slips; asked from the Bot API when unset.
    bot_username: str | None = None
    database_url: str | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    redis_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    default_locale: Literal["ru", "en", "tt"] = "ru"
    default_timezone: str = DEFAULT_TIMEZONE
    # Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset.
    data_dir: Path = Path(".journalbot")
    # HMAC key for activation codes; generated into data_dir when unset.
    code_secret: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Delivery: Telegram allows about 30 messages a second per bot and 1 a second per chat.
    notify_rate: float = Field(default=25.0, gt=0, le=10_000)
    # A new mark waits this long before it is sent, so a quick correction replaces it.
    notify_hold_seconds: float = Field(default=0.0, ge=0, le=3600)
    notify_max_attempts: int = Field(default=8, ge=1, le=100)
    notify_max_backoff_seconds: float = Field(default=600.0, gt=0, le=86_400)
    # How long a sender holds claimed messages; after a crash they are sent when it ends.
    notify_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    # Messages in flight at once in one process.
    notify_concurrency: int = Field(default=8, ge=1, le=256)
    # /healthz, /readyz and /metrics; 0 turns the server off.
    health_host: str = "0.0.0.0"
    health_port: int = Field(default=9090, ge=0, le=65535)
    # /readyz fails when the oldest message due has waited longer than this.
    ready_max_due_age_seconds: float = Field(default=300.0, gt=0, le=86_400)
    # The ingest API (`journalbot api`; `journalbot run` too when API_PORT is set).
    api_host: str = "0.0.0.0"
    api_port: int | None = Field(default=None, ge=1, le=65535)
    # Requests a second per token, after a burst of api_burst.
    api_rate: float = Field(default=20.0, gt=0, le=100_000)
    api_burst: int = Field(default=40, ge=1, le=100_000)
    # Retention: processed journal events and finished notifications older than this go.
    retention_events_days: int = Field(default=7, ge=1, le=3650)
    retention_notifications_days: int = Field(default=30, ge=1, le=3650)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() == "":
            return None
        if value is not None and not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("expected the form 123456789:ABC... that @BotFather gives")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str | None) -> str | None:
        if not value:
            return None
        if value.startswith(("postgres://", "postgresql://")):
            # Accept the libpq spelling and use the async driver the project runs on.
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("expected postgresql+asyncpg://user:password@host:port/database")
        return value

    @field_validator("telegram_api_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"expected an IANA time zone such as {DEFAULT_TIMEZONE}") from exc
        return value


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value raises SettingsError naming the variable, not a traceback."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {reason}") from None
    if settings.webhook_url and settings.webhook_secret is None:
        raise SettingsError("WEBHOOK_SECRET: required when WEBHOOK_URL is set")
    if settings.telegram_api_url is None:
        settings.telegram_api_url = DEFAULT_TELEGRAM_API_URL
    return settings
