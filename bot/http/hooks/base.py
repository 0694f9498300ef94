"""What a shop webhook means to Wafa, whatever the platform: a paid order, a
refund, or nothing (SPEC §9.2). Each platform module turns its documented
payload into these; `bot.http.hooks.apply` records them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class Paid:
    order_id: str
    amount: Decimal  # what the goods cost: the total less shipping
    currency: str | None
    phone: str | None  # as the shop sent it
    country: str | None  # ISO code of the order's country: read a phone without its country code there


@dataclass(frozen=True)
class Refunded:
    refund_id: str
    order_id: str
    amount: Decimal | None  # None: the rest of the order (a cancellation, a full refund)


@dataclass(frozen=True)
class Ignored:
    reason: str


Event = Paid | Refunded | Ignored


def hmac_sha256(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()


def matches_hex(secret: str, body: bytes, signature: str | None) -> bool:
    """HMAC-SHA256 of the raw body as hex, compared in constant time."""
    if not signature:
        return False
    return hmac.compare_digest(hmac_sha256(secret, body).hex(), signature.strip().lower())


def matches_base64(secret: str, body: bytes, signature: str | None) -> bool:
    """HMAC-SHA256 of the raw body in base64, compared in constant time."""
    if not signature:
        return False
    expected = base64.b64encode(hmac_sha256(secret, body)).decode("ascii")
    return hmac.compare_digest(expected, signature.strip())


def money(value: Any) -> Decimal | None:
    """An amount as platforms send it (`"29.35"`, `196`, `"899.10000000000000"`,
    `{"amount": 154}`), rounded to cents; None when there is none."""
    if isinstance(value, dict):
        value = value.get("amount")
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    result = str(value).strip()
    return result or None


def field(data: Any, *path: str) -> Any:
    """`data[path[0]][path[1]]…`, or None where a step is missing or not an object."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def goods(total: Decimal | None, *charges: Decimal | None) -> Decimal | None:
    """The total less shipping (and similar) charges, never below zero."""
    if total is None:
        return None
    rest = total - sum((c for c in charges if c is not None), Decimal(0))
    return max(rest, Decimal(0))
