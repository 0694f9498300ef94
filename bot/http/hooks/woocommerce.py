"""WooCommerce (SPEC §9.2): `POST /hooks/woocommerce`, `WOOCOMMERCE_WEBHOOK_SECRET`.

Followed: the WooCommerce REST API documentation, "Webhooks" (delivery and
payload) and "Orders" (the order object and its examples),
https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks
(source: github.com/woocommerce/woocommerce-rest-api-docs,
`source/includes/wp-api-v3/_webhooks.md` and `_orders.md`).

- `X-WC-Webhook-Signature` is the base64 HMAC-SHA256 of the raw body with the
  webhook's secret; checked before anything is parsed. `X-WC-Webhook-Topic`
  is e.g. `order.created` / `order.updated`.
- The payload is the order exactly as the REST API returns it. A webhook
  saved in WooCommerce's admin first sends a ping, `webhook_id=<id>`
  (form-encoded): answered 200.
- Status `processing` or `completed` earns (keyed `woocommerce:<order id>`);
  each entry of `refunds` (`{"id", "total": "-10.00"}`) is a refund of that
  amount, keyed by its id; status `refunded` or `cancelled` takes back what
  is left of the order.
- The amount is `total` less `shipping_total` and `shipping_tax`, in
  `currency`; the customer is `billing.phone`, read in `billing.country`.

The documented example orders are test fixtures (`tests/http/fixtures/woocommerce_*.json`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config import Settings
from bot.http.hooks.base import Event, Ignored, Paid, Refunded, field, goods, matches_base64, money, text

NAME = "woocommerce"
SIGNATURE = "X-WC-Webhook-Signature"
TOPIC = "X-WC-Webhook-Topic"
EARNING = frozenset({"processing", "completed"})
TAKING_BACK = frozenset({"refunded", "cancelled"})


def secret(settings: Settings) -> str | None:
    return settings.woocommerce_webhook_secret


def verify(body: bytes, headers: Mapping[str, str], query: Mapping[str, str], secret: str) -> bool:
    return matches_base64(secret, body, headers.get(SIGNATURE))


def is_ping(body: bytes) -> bool:
    return body.startswith(b"webhook_id=")


def events(payload: Any, headers: Mapping[str, str]) -> list[Event]:
    topic = headers.get(TOPIC) or "order.updated"
    if not topic.startswith("order.") or topic == "order.deleted" or not isinstance(payload, dict):
        return [Ignored(f"topic {topic}")]
    order_id = text(payload.get("id"))
    if order_id is None:
        return [Ignored("no order id")]
    status = text(payload.get("status"))
    found: list[Event] = []
    if status in EARNING:
        amount = goods(
            money(payload.get("total")), money(payload.get("shipping_total")), money(payload.get("shipping_tax"))
        )
        if amount is not None:
            found.append(
                Paid(
                    order_id,
                    amount,
                    text(payload.get("currency")),
                    text(field(payload, "billing", "phone")),
                    text(field(payload, "billing", "country")),
                )
            )
    for refund in payload.get("refunds") or []:
        refund_id, total = text(field(refund, "id")), money(field(refund, "total"))
        if refund_id is not None and total:
            found.append(Refunded(f"refund-{refund_id}", order_id, abs(total)))
    if status in TAKING_BACK:
        found.append(Refunded(f"{order_id}:{status}", order_id, None))
    return found or [Ignored(f"status {status}")]
