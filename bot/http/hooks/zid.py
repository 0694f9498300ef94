"""Zid (SPEC §9.2): `POST /hooks/zid`, `ZID_WEBHOOK_TOKEN`.

Followed: Zid's developer documentation, "Webhooks" (events and how to
subscribe, https://docs.zid.sa/webhooks), "Create a Webhook"
(`POST /v1/managers/webhooks` with `event`, `target_url`, `conditions`,
https://docs.zid.sa/create-a-webhook) and the "Order" payload schema
(https://docs.zid.sa/webhook-events-order).

- Zid signs nothing: the subscription's `target_url` carries a secret, so
  Wafa's URL is `https://<host>/hooks/zid?token=<ZID_WEBHOOK_TOKEN>`
  (compared in constant time). A subscription made with HTTP Basic
  credentials may send the token as the password instead.
- The payload is the Order object (`id`, `order_status.code`,
  `payment_status`, `order_total`, `currency_code`, `customer.mobile`); a
  body wrapped as `{"event", "data"}` is unwrapped.
- `payment_status` `paid`, or the status `delivered` (cash on delivery),
  earns (keyed `zid:<order id>`); the statuses `refunded`, `reversed`,
  `chargeback`, `canceled` and `voided` take back what is left.
- The amount is `order_total` less the invoice's `shipping` lines
  (`payment.invoice[]` with codes `shipping` and `shipping_discount`).

The documented example order is a test fixture (`tests/http/fixtures/zid_order.json`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.config import Settings
from bot.http.hooks.base import Event, Ignored, Paid, Refunded, field, goods, money, text

NAME = "zid"
EARNING_STATUSES = frozenset({"delivered"})
TAKING_BACK = frozenset({"refunded", "reversed", "chargeback", "canceled", "cancelled", "voided"})


def secret(settings: Settings) -> str | None:
    return settings.zid_webhook_token


def _same(given: str | None, secret: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))


def verify(body: bytes, headers: Mapping[str, str], query: Mapping[str, str], secret: str) -> bool:
    if _same(query.get("token"), secret):
        return True
    authorization = headers.get("Authorization", "")
    if authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return _same(decoded.partition(":")[2], secret)
    return False


def events(payload: Any, headers: Mapping[str, str]) -> list[Event]:
    order = payload
    for wrapper in ("data", "order"):
        if isinstance(field(order, wrapper), dict):
            order = order[wrapper]
    if not isinstance(order, dict):
        return [Ignored("not an order")]
    order_id = text(order.get("id"))
    if order_id is None:
        return [Ignored("no order id")]
    status = text(field(order, "order_status", "code")) or text(order.get("order_status"))
    payment = text(field(order, "payment_status", "code")) or text(order.get("payment_status"))
    if status in TAKING_BACK or payment in ("refunded", "voided"):
        return [Refunded(f"{order_id}:{status or payment}", order_id, None)]
    if payment != "paid" and status not in EARNING_STATUSES:
        return [Ignored(f"status {status}, payment {payment}")]
    shipping = [
        money(line.get("value"))
        for line in field(order, "payment", "invoice") or []
        if isinstance(line, dict) and line.get("code") in ("shipping", "shipping_discount")
    ]
    amount = goods(money(order.get("order_total")), sum((s for s in shipping if s), Decimal(0)))
    if amount is None:
        return [Ignored("no amount")]
    country = text(field(order, "shipping", "address", "country", "code"))
    return [Paid(order_id, amount, text(order.get("currency_code")), text(field(order, "customer", "mobile")), country)]
