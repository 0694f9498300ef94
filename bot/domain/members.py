"""Member codes and the ways staff refer to a member (SPEC §3 `/start`, §4 `<member>`)."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Literal

from bot.domain.digits import to_latin

# No 0/O, 1/I/L, U/V lookalikes: a cashier reading a code aloud cannot mistype it.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 6
_CODE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def new_member_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def looks_like_code(text: str) -> bool:
    return bool(_CODE.match(text.upper()))


@dataclass(frozen=True)
class MemberRef:
    """What a cashier typed to name a member, classified."""

    kind: Literal["code", "telegram_id", "username", "phone"]
    value: str


def parse_member_ref(text: str) -> MemberRef | None:
    """Classify `<member>`: a member code, a Telegram user id, an @username or a phone.

    Digits may be Persian or Arabic-Indic. A leading `+` or `00`, or a local
    leading `0`, marks a phone; other bare numbers are Telegram ids first and
    phones second (the service tries both). Returns None for anything else.
    """
    raw = to_latin(text).strip()
    if not raw:
        return None
    if raw.startswith("@"):
        name = raw[1:]
        return MemberRef("username", name.lower()) if re.fullmatch(r"[A-Za-z0-9_]{4,32}", name) else None
    if looks_like_code(raw):
        return MemberRef("code", raw.upper())
    compact = re.sub(r"[\s\-().]", "", raw)
    if re.fullmatch(r"\+?\d{1,16}", compact):
        digits = compact.lstrip("+")
        if compact.startswith("+") or digits.startswith("0"):
            return MemberRef("phone", normalize_phone(compact)) if len(digits) >= 7 else None
        return MemberRef("telegram_id", digits)
    return None


def normalize_phone(text: str) -> str:
    """Digits only, international prefix `00` dropped: `+98 912…` → `98912…`."""
    digits = re.sub(r"\D", "", to_latin(text))
    return digits[2:] if digits.startswith("00") else digits


def phone_suffix(phone: str) -> str:
    """Last nine digits: matches `0912…` typed locally against `98912…` stored."""
    return normalize_phone(phone)[-9:]
