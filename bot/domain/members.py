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


def member_token_counts(tokens: list[str], *, keep: int) -> list[int]:
    """How many leading `tokens` may form the `<member>` of a command, most first.

    A phone is often typed in groups (`+966 50 123 4567`, `0912 345 6789`):
    when the first token marks a phone (`+`, `00` or a local `0`), the groups
    that follow may belong to it, as long as `keep` tokens remain (e.g. the
    amount of `/award`). The caller tries each count until one names a member."""
    if not tokens:
        return []
    first = to_latin(tokens[0]).strip()
    if not re.fullmatch(r"\+?\(?\d[\d\-()]*", first) or not (first.startswith(("+", "0", "("))):
        return [1]
    counts = []
    for count in range(1, len(tokens) - keep + 1):
        if count > 1 and not re.fullmatch(r"[\d\-()]+", to_latin(tokens[count - 1])):
            break
        counts.append(count)
    return sorted(counts, reverse=True) or [1]
