"""API keys for the shop's systems (SPEC §9.1): shown once, stored as a hash.

A key is `wafa_` and 32 characters from an alphabet without lookalikes,
about 190 bits from `secrets`. That much entropy needs no slow password hash:
SHA-256 of the key is what the database keeps, and a stolen table gives
nobody a usable key. The first characters stay readable (`prefix`) so an
operator can tell keys apart in `wafa apikey list`.
"""

from __future__ import annotations

import hashlib
import re
import secrets

SCOPES = ("members:read", "purchases:write", "refunds:write", "vouchers:write", "events:write")
PREFIX = "wafa_"
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_LENGTH = 32
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def new_key() -> str:
    return PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(PREFIX) + 4]


def looks_like_key(text: str) -> bool:
    return text.startswith(PREFIX) and 20 <= len(text) <= 128 and text.isascii()


def parse_scopes(text: str | None) -> tuple[str, ...]:
    """`members:read,purchases:write` → the scopes, in canonical order; None or
    empty means all of them. Raises ValueError naming an unknown scope."""
    if text is None or not text.strip():
        return SCOPES
    wanted = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; use {', '.join(SCOPES)}")
    return tuple(scope for scope in SCOPES if scope in wanted)


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ValueError("a key name is 1-64 letters, digits, '.', '_' or '-', e.g. pos-1")
    return name
