"""Settings from the environment (SPEC §2), validated once at start.

A missing or malformed value stops the process with one line naming the
variable (`ConfigError`), never later mid-conversation.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LANGUAGES = ("ar", "fa", "en")
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class ConfigError(Exception):
    """One configuration problem, phrased for an operator's terminal."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite+aiosqlite:///./wafa.db"
    redis_url: str | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    program_file: Path | None = None
    timezone: str = "UTC"
    default_language: Literal["ar", "fa", "en"] = "en"
    broadcast_rate: float = Field(default=25.0, gt=0, le=1000)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # The key of the hash that recognises a rejoin after /forget (SPEC §7); default: derived from BOT_TOKEN.
    erasure_key: str | None = None
    # The HTTP side (SPEC §9). PORT=off: no HTTP server in `wafa run`; 0: any free port.
    port: int | None = Field(default=8080, ge=0, le=65535)
    http_host: str = "127.0.0.1"
    default_region: str | None = None
    salla_webhook_secret: str | None = None
    zid_webhook_token: str | None = None
    woocommerce_webhook_secret: str | None = None
    shopify_webhook_secret: str | None = None

    @field_validator(
        "bot_token", "redis_url", "webhook_url", "webhook_secret", "erasure_key", "program_file", "default_region",
        "salla_webhook_secret", "zid_webhook_token", "woocommerce_webhook_secret", "shopify_webhook_secret",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("port", mode="before")
    @classmethod
    def _port_off(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip().lower()
            if text == "off":
                return None
            if not text.isdigit():
                raise ValueError(f"{value!r} is not a port number (1-65535) or off")
        return value

    @field_validator("http_host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip()
        if not value or any(ch.isspace() for ch in value):
            raise ValueError("expected an address to bind, e.g. 127.0.0.1 or 0.0.0.0")
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        from bot.domain.phones import is_region

        if value is None:
            return None
        if not is_region(value.strip()):
            raise ValueError(f"{value!r} is not an ISO country code such as SA, IR, AE or EG")
        return value.strip().upper()

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: str | None) -> str | None:
        # Telegram's rule for secret_token: 1-256 characters A-Z a-z 0-9 _ -.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("use 1-256 characters A-Z, a-z, 0-9, _ or - (Telegram's secret_token rule)")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        # Same rule aiogram applies: "<digits>:<secret>" without spaces.
        if value is not None and not _TOKEN.match(value.strip()):
            raise ValueError("expected the form 123456789:ABC... from BotFather")
        return value.strip() if value else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            ids = []
            for part in parts:
                if not part.lstrip("-").isdigit():
                    raise ValueError(f"{part!r} is not a Telegram user id (comma-separated numbers)")
                ids.append(int(part))
            return frozenset(ids)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Asia/Tehran") from None
        return value

    @field_validator("telegram_api_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http(s):// URL")
        return value.rstrip("/") if value else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith(("postgres://", "postgresql://")):
            # Operators paste libpq URLs; the async driver is implied.
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("expected sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db")
        return value

    @field_validator("program_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a readable file")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read the environment (and `.env`) into Settings or raise ConfigError.

    The message names the variable in its environment spelling, e.g.
    ``ADMIN_IDS: 'abc' is not a Telegram user id``.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first.get("loc") else "configuration"
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None


def require_token(settings: Settings) -> str:
    if not settings.bot_token:
        raise ConfigError("BOT_TOKEN: required for `wafa run` and `wafa webhook` (get one from @BotFather)")
    return settings.bot_token


def require_webhook(settings: Settings) -> tuple[str, str]:
    """`wafa webhook` needs its URL, a secret (anyone who finds the URL could post
    updates otherwise) and an HTTP port."""
    if not settings.webhook_url:
        raise ConfigError("WEBHOOK_URL: required for `wafa webhook`, e.g. https://bot.example.com/telegram")
    if not settings.webhook_secret:
        raise ConfigError(
            "WEBHOOK_SECRET: required for `wafa webhook`, so that only Telegram can post updates "
            "(1-256 characters A-Z, a-z, 0-9, _ or -)"
        )
    if settings.port is None:
        raise ConfigError("PORT: `wafa webhook` receives updates over HTTP; set a port, not off")
    return settings.webhook_url, settings.webhook_secret
