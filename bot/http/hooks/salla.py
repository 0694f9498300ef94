"""Salla (SPEC §9.2): `POST /hooks/salla`, `SALLA_WEBHOOK_SECRET`.

Followed: Salla's Merchant API documentation — "Webhooks" (security strategies;
https://docs.salla.dev/doc-421119) and "Webhooks - Store Events: Order"
(https://docs.salla.dev/doc-433804), and Salla's own guide
(https://github.com/SallaApp/salla-partners-agent-kit, skills/salla-webhooks).

- Signature strategy (Salla's default): `X-Salla-Signature` is the hex
  HMAC-SHA256 of the raw body with the webhook secret
  (`X-Salla-Security-Strategy: Signature`). Checked before anything is parsed.
- Envelope: `{"event", "merchant", "created_at", "data"}`. The order events
  (`order.created`, `order.updated`, `order.cancelled`, `order.refunded`, …)
  carry the order as `data`; `order.status.updated` carries a status change
  with the order under `data.order`.
- The order's status is `status.slug`: `completed` (تم التنفيذ), then
  `delivering`, `delivered`, `shipped` mean the sale happened and earn;
  `canceled` and `restored` (returned, refunded) take the points back;
  `payment_pending`, `under_review`, `in_progress`, `restoring` change nothing yet.
- The customer is `customer.mobile` with `customer.mobile_code` (`501806978`,
  `+966`), or a full `+966…` in `mobile`; `customer.country_code` is the region.
- The amount is `amounts.total` less `amounts.shipping_cost` and
  `amounts.cash_on_delivery`, in `amounts.total.currency`.

The documented examples are kept as test fixtures (`tests/http/fixtures/salla_*.json`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config import Settings
from bot.http.hooks.base import Event, Ignored, Paid, Refunded, field, goods, matches_hex, money, text

NAME = "salla"
SIGNATURE = "X-Salla-Signature"
ORDER_EVENTS = frozenset(
    {
        "order.created",
        "order.updated",
        "order.status.updated",
        "order.cancelled",
        "order.refunded",
        "order.payment.updated",
        "order.total.price.updated",
        "order.products.updated",
    }
)
EARNING = frozenset({"completed", "delivering", "delivered", "shipped"})
TAKING_BACK = frozenset({"canceled", "cancelled", "restored", "refunded"})


def secret(settings: Settings) -> str | None:
    return settings.salla_webhook_secret


def verify(body: bytes, headers: Mapping[str, str], query: Mapping[str, str], secret: str) -> bool:
    return matches_hex(secret, body, headers.get(SIGNATURE))


def events(payload: Any, headers: Mapping[str, str]) -> list[Event]:
    event = text(field(payload, "event"))
    data = field(payload, "data")
    if event not in ORDER_EVENTS or not isinstance(data, dict):
        return [Ignored(f"event {event}")]
    nested = data.get("order")
    order: dict[str, Any] = nested if isinstance(nested, dict) else data
    order_id = text(order.get("id"))
    if order_id is None:
        return [Ignored("no order id")]
    status = text(field(order, "status", "slug"))
    if event == "order.refunded" or event == "order.cancelled" or status in TAKING_BACK:
        reason = status if status in TAKING_BACK else event.removeprefix("order.")
        return [Refunded(f"{order_id}:{reason}", order_id, None)]
    if status not in EARNING:
        return [Ignored(f"status {status}")]
    found_amounts = order.get("amounts")
    amounts: dict[str, Any] = found_amounts if isinstance(found_amounts, dict) else {}
    total = money(amounts.get("total")) if amounts else money(order.get("total"))
    amount = goods(total, money(amounts.get("shipping_cost")), money(amounts.get("cash_on_delivery")))
    if amount is None:
        return [Ignored("no amount")]
    currency = text(field(amounts, "total", "currency")) or text(order.get("currency"))
    found_customer = order.get("customer")
    customer: dict[str, Any] = found_customer if isinstance(found_customer, dict) else {}
    mobile, code = text(customer.get("mobile")), text(customer.get("mobile_code"))
    phone = f"{code}{mobile}" if mobile and code and not mobile.startswith("+") else mobile
    return [Paid(order_id, amount, currency, phone, text(customer.get("country_code")))]
