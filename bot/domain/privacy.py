"""Recognising a rejoin after /forget without keeping anything readable (SPEC §7).

A former member is kept only as HMAC-SHA256(key, Telegram id). The key lives
outside the database (ERASURE_KEY, or derived from BOT_TOKEN), so a copy of
the database alone cannot be turned back into Telegram ids by trying them all.
"""
from __future__ import annotations

import hashlib
import hmac

_DERIVATION = b"wafa/former-members/v1"


def erasure_key(secret: str | None, bot_token: str | None) -> bytes | None:
    """The HMAC key: ERASURE_KEY when set, else one derived from BOT_TOKEN; None without both."""
    if secret:
        return hashlib.sha256(_DERIVATION + b"/secret/" + secret.encode("utf-8")).digest()
    if bot_token:
        return hmac.new(bot_token.encode("utf-8"), _DERIVATION, hashlib.sha256).digest()
    return None


def former_key(key: bytes, telegram_id: int) -> str:
    """The hex HMAC-SHA256 of a Telegram id under `key` (64 characters)."""
    return hmac.new(key, str(int(telegram_id)).encode("ascii"), hashlib.sha256).hexdigest()
