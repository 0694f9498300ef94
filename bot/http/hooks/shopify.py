"""Shopify (SPEC §9.2): `POST /hooks/shopify`, `SHOPIFY_WEBHOOK_SECRET`.

Followed: Shopify's developer documentation, "HTTPS webhook delivery"
(https://shopify.dev/docs/apps/build/webhooks/subscribe/https, verification
with the app's client secret) and the webhook topics reference with its
sample payloads (https://shopify.dev/docs/api/webhooks?reference=toml:
`orders/paid`, `orders/cancelled`, `refunds/create`).

- `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body with the
  app's client secret (for a webhook made in the store admin, the key shown
  under Settings → Notifications → Webhooks); checked before anything is
  parsed. `X-Shopify-Topic` names the topic.
- `orders/paid`: the order; earns `total_price` (shop currency,
  `total_price_set.shop_money`) less `total_shipping_price_set`, keyed
  `shopify:<order id>`. The customer is `customer.phone`, else the order's
  `phone`, else the billing or shipping address's phone, read in the
  address's `country_code`.
- `refunds/create`: the refund (`id`, `order_id`); its amount is the sum of
  its successful `refund` transactions, else of its `refund_line_items`
  subtotals.
- `orders/cancelled`: takes back what is left of the order.

Shopify's sample payloads are test fixtures (`tests/http/fixtures/shopify_*.json`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.config import Settings
from bot.http.hooks.base import Event, Ignored, Paid, Refunded, field, goods, matches_base64, money, text

NAME = "shopify"
SIGNATURE = "X-Shopify-Hmac-Sha256"
TOPIC = "X-Shopify-Topic"


def secret(settings: Settings) -> str | None:
    return settings.shopify_webhook_secret


def verify(body: bytes, headers: Mapping[str, str], query: Mapping[str, str], secret: str) -> bool:
    return matches_base64(secret, body, headers.get(SIGNATURE))


def events(payload: Any, headers: Mapping[str, str]) -> list[Event]:
    topic = headers.get(TOPIC, "")
    if not isinstance(payload, dict):
        return [Ignored("not an object")]
    if topic == "orders/paid":
        return [_paid(payload)]
    if topic == "refunds/create":
        return [_refund(payload)]
    if topic == "orders/cancelled":
        order_id = text(payload.get("id"))
        return [Refunded(f"{order_id}:cancelled", order_id, None)] if order_id else [Ignored("no order id")]
    return [Ignored(f"topic {topic or 'missing'}")]


def _paid(order: dict[str, Any]) -> Event:
    order_id = text(order.get("id"))
    total = money(field(order, "total_price_set", "shop_money")) or money(order.get("total_price"))
    amount = goods(total, money(field(order, "total_shipping_price_set", "shop_money")))
    if order_id is None or amount is None:
        return Ignored("no order id or amount")
    currency = text(field(order, "total_price_set", "shop_money", "currency_code")) or text(order.get("currency"))
    phone = next(
        (
            p
            for p in (
                text(field(order, "customer", "phone")),
                text(order.get("phone")),
                text(field(order, "billing_address", "phone")),
                text(field(order, "shipping_address", "phone")),
            )
            if p
        ),
        None,
    )
    country = text(field(order, "billing_address", "country_code")) or text(
        field(order, "shipping_address", "country_code")
    )
    return Paid(order_id, amount, currency, phone, country)


def _refund(refund: dict[str, Any]) -> Event:
    refund_id, order_id = text(refund.get("id")), text(refund.get("order_id"))
    if refund_id is None or order_id is None:
        return Ignored("no refund or order id")
    paid = [
        money(t.get("amount"))
        for t in refund.get("transactions") or []
        if isinstance(t, dict) and t.get("kind") == "refund" and t.get("status") == "success"
    ]
    amount = sum((a for a in paid if a), Decimal(0))
    if not amount:
        lines = [
            money(field(item, "subtotal_set", "shop_money")) or money(field(item, "subtotal"))
            for item in refund.get("refund_line_items") or []
        ]
        amount = sum((a for a in lines if a), Decimal(0))
    if amount <= 0:
        return Ignored("refund without an amount")
    return Refunded(refund_id, order_id, amount)
