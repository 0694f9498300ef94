"""Mini App init data, checked as Telegram documents it (SPEC §10).

https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app:
the data-check-string is every received field except `hash`, sorted by key,
as `key=value` lines joined by `\\n`; the secret key is
HMAC-SHA256(key="WebAppData", msg=bot_token); `hash` is the hex
HMAC-SHA256(key=secret, msg=data_check_string), compared in constant time.
`auth_date` must be at most 24 hours old (and not from the future).

aiogram ships the same check (`aiogram.utils.web_app.check_webapp_signature`);
the HTTP layer imports no aiogram, so the dozen lines live here, and
`tests/http/test_initdata.py` pins them to aiogram's result.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

MAX_AGE = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=5)  # a phone's clock a little ahead is not an attack
MAX_LENGTH = 8192


class InitDataError(Exception):
    """Why the init data is refused: `code` is `invalid_init_data` or `init_data_expired`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class WebAppUser:
    id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    auth_date: datetime


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={value}" for key, value in sorted(fields.items()) if key != "hash")


def validate(init_data: str, bot_token: str, *, now: datetime) -> WebAppUser:
    """The Telegram user the init data speaks for, or InitDataError."""
    if not init_data or len(init_data) > MAX_LENGTH:
        raise InitDataError("invalid_init_data", "The Mini App init data is missing or too long.")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError("invalid_init_data", "The Mini App init data is not a query string.") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("invalid_init_data", "A field of the init data appears twice.")
    received = fields.get("hash", "")
    expected = hmac.new(_secret(bot_token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(received.encode(), expected.encode()):
        raise InitDataError("invalid_init_data", "The init data's signature is wrong (or made for another bot).")
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), tz=UTC)
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        raise InitDataError("invalid_init_data", "The init data has no valid auth_date and user.") from None
    if now - auth_date > MAX_AGE or auth_date - now > CLOCK_SKEW:
        raise InitDataError("init_data_expired", "The init data is more than 24 hours old; open the Mini App again.")

    def text(name: str) -> str | None:
        value = user.get(name)
        return str(value) if isinstance(value, (str, int)) and str(value) else None

    return WebAppUser(
        id=user_id,
        first_name=text("first_name") or "",
        last_name=text("last_name"),
        username=text("username"),
        language_code=text("language_code"),
        auth_date=auth_date,
    )


def sign(bot_token: str, user: dict[str, Any], *, auth_date: datetime, **extra: str) -> str:
    """Init data as Telegram would make it for `user` (the demo's links and the tests)."""
    fields = {"user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
              "auth_date": str(int(auth_date.timestamp())), **extra}
    fields["hash"] = hmac.new(_secret(bot_token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)
