"""Shop webhooks (SPEC §9.2): the documented payloads of Salla, Zid, WooCommerce
and Shopify, signed as each platform signs them, through the real ASGI app."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import App
from bot.domain.program import Program
from bot.http.hooks import salla, shopify, woocommerce, zid
from bot.http.hooks.base import Ignored, Paid, Refunded
from standin import BotAPIStandIn
from tests.http.test_api import balance_of, join, snapshot
from tests.support import EMMA, Chat, FakeClock, make_app

FIXTURES = Path(__file__).parent / "fixtures"
SECRETS = {
    "salla_webhook_secret": "salla-secret",
    "zid_webhook_token": "zid-token",
    "woocommerce_webhook_secret": "woo-secret",
    "shopify_webhook_secret": "shopify-secret",
}
PHONE = "+966501234567"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, default=str, ensure_ascii=False).encode("utf-8")


def hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def b64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
async def shop(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> AsyncIterator[App]:
    """An app with every shop's secret set."""
    application = await make_app(db_url, standin, clock=clock, **SECRETS)
    try:
        yield application
    finally:
        await application.close()


@pytest.fixture
def shop_chat(shop: App, standin: BotAPIStandIn) -> Chat:
    return Chat(shop, standin)


@pytest.fixture
async def hooks(shop: App) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=shop.http_app()), base_url="http://wafa.test"
    ) as client:
        yield client


async def with_phone(chat: Chat) -> None:
    await join(chat, EMMA)
    await chat.share_contact(EMMA, PHONE.lstrip("+"))


# -- the documented payloads, read ---------------------------------------------------------
def test_documented_samples_mean_what_the_platforms_say() -> None:
    assert salla.events(fixture("salla_order_created.json"), {}) == [Ignored("status under_review")]
    completed = salla.events(fixture("salla_order_status_updated.json"), {})
    assert completed == [Paid("629263027", Decimal("120.00"), "SAR", "+96652318526", None)]  # 154 - 33 shipping - 1 COD

    order = woocommerce.events(fixture("woocommerce_order_727.json"), {"X-WC-Webhook-Topic": "order.updated"})
    assert order == [Paid("727", Decimal("19.35"), "USD", "(555) 555-5555", "US")]  # 29.35 - 10.00 shipping
    refunded = woocommerce.events(fixture("woocommerce_order_723.json"), {"X-WC-Webhook-Topic": "order.updated"})
    assert refunded == [
        Paid("723", Decimal("29.00"), "USD", "(11) 1111-1111", "BR"),
        Refunded("refund-726", "723", Decimal("10.00")),
        Refunded("refund-724", "723", Decimal("9.00")),
    ]

    paid = shopify.events(fixture("shopify_orders_paid.json"), {"X-Shopify-Topic": "orders/paid"})
    assert paid == [Paid("820982911946154508", Decimal("393.00"), "USD", "555-555-BILL", "US")]
    refund = shopify.events(fixture("shopify_refunds_create.json"), {"X-Shopify-Topic": "refunds/create"})
    assert refund == [Refunded("890088186047892319", "820982911946154508", Decimal("75.00"))]
    assert shopify.events(fixture("shopify_orders_paid.json"), {"X-Shopify-Topic": "products/create"}) == [
        Ignored("topic products/create")
    ]

    new = zid.events(fixture("zid_order.json"), {})
    assert new == [Ignored("status new, payment pending")]
    delivered = fixture("zid_order.json") | {"order_status": {"code": "delivered", "name": "تم التوصيل"}}
    assert zid.events(delivered, {}) == [Paid("25304285", Decimal("30.00"), "KWD", "+966501234567", "SA")]
    assert zid.events({"event": "order.status.update", "data": delivered}, {}) == zid.events(delivered, {})


# -- signatures ----------------------------------------------------------------------------
async def test_a_missing_or_wrong_signature_is_401_and_changes_nothing(
    shop: App, shop_chat: Chat, hooks: httpx.AsyncClient
) -> None:
    await with_phone(shop_chat)
    before = await snapshot(shop)
    woo = dumps(fixture("woocommerce_order_727.json"))
    shop_body = dumps(fixture("shopify_orders_paid.json"))
    salla_body = dumps(fixture("salla_order_status_updated.json"))
    attempts = [
        ("/hooks/woocommerce", woo, {}),
        ("/hooks/woocommerce", woo, {"X-WC-Webhook-Signature": b64_hmac("wrong", woo)}),
        ("/hooks/woocommerce", woo + b" ", {"X-WC-Webhook-Signature": b64_hmac("woo-secret", woo)}),
        ("/hooks/shopify", shop_body, {"X-Shopify-Topic": "orders/paid"}),
        (
            "/hooks/shopify",
            shop_body,
            {"X-Shopify-Topic": "orders/paid", "X-Shopify-Hmac-Sha256": hex_hmac("shopify-secret", shop_body)},
        ),
        ("/hooks/salla", salla_body, {"X-Salla-Signature": b64_hmac("salla-secret", salla_body)}),
        ("/hooks/salla", salla_body, {"X-Salla-Signature": ""}),
        ("/hooks/zid", dumps(fixture("zid_order.json")), {}),
        ("/hooks/zid?token=zid-tokeN", dumps(fixture("zid_order.json")), {}),
        (
            "/hooks/zid",
            dumps(fixture("zid_order.json")),
            {"Authorization": "Basic " + base64.b64encode(b"u:nope").decode()},
        ),
        ("/hooks/zid", dumps(fixture("zid_order.json")), {"Authorization": "Basic !!!"}),
    ]
    for path, body, headers in attempts:
        answer = await hooks.post(path, content=body, headers=headers)
        assert answer.status_code == 401, (path, headers, answer.text)
        assert answer.json()["error"]["code"] == "bad_signature"
    assert await snapshot(shop) == before


async def test_a_platform_without_its_secret_is_404(app: App, http: httpx.AsyncClient) -> None:
    for platform in ("salla", "zid", "woocommerce", "shopify", "magento"):
        answer = await http.post(f"/hooks/{platform}", content=b"{}")
        assert answer.status_code == 404, platform


async def test_a_signed_body_that_is_not_json_is_400_and_a_woocommerce_ping_is_200(
    shop: App, hooks: httpx.AsyncClient
) -> None:
    bad = b"{not json"
    answer = await hooks.post(
        "/hooks/shopify", content=bad, headers={"X-Shopify-Hmac-Sha256": b64_hmac("shopify-secret", bad)}
    )
    assert answer.status_code == 400
    ping = b"webhook_id=42"
    pong = await hooks.post(
        "/hooks/woocommerce", content=ping, headers={"X-WC-Webhook-Signature": b64_hmac("woo-secret", ping)}
    )
    assert pong.status_code == 200


# -- each platform earns and takes back ------------------------------------------------------
async def test_woocommerce_paid_order_earns_once_and_its_refunds_take_back(
    shop: App, shop_chat: Chat, hooks: httpx.AsyncClient
) -> None:
    await with_phone(shop_chat)
    order = fixture("woocommerce_order_723.json")
    order["currency"], order["billing"]["phone"], order["billing"]["country"] = "SAR", "050 123 4567", "SA"
    order["refunds"] = []

    async def post(payload: dict[str, Any]) -> httpx.Response:
        body = dumps(payload)
        return await hooks.post(
            "/hooks/woocommerce",
            content=body,
            headers={"X-WC-Webhook-Signature": b64_hmac("woo-secret", body), "X-WC-Webhook-Topic": "order.updated"},
        )

    first = await post(order)
    assert first.status_code == 200 and first.json()["results"][0]["outcome"] == "earned", first.text
    assert await balance_of(shop, EMMA) == 20 + 29
    again = await post(order)  # redelivery
    assert again.status_code == 200 and again.json()["results"][0]["outcome"] == "already_recorded"
    assert await balance_of(shop, EMMA) == 49
    order["refunds"] = fixture("woocommerce_order_723.json")["refunds"]  # the documented refunds: 10 and 9
    refunded = await post(order)
    assert [r["outcome"] for r in refunded.json()["results"]] == ["already_recorded", "refunded", "refunded"]
    assert await balance_of(shop, EMMA) == 49 - 10 - 9
    order["status"] = "refunded"
    rest = await post(order)
    assert [r["outcome"] for r in rest.json()["results"]][-1] == "refunded"
    assert await balance_of(shop, EMMA) == 20
    assert (await post(order)).json()["results"][-1]["outcome"] == "already_recorded"
    await shop_chat.deliver_outbox()
    texts = [m.text for m in shop_chat.standin.messages(EMMA.id)]
    assert any("You earned 29 points for your purchase of 29 SAR" in t for t in texts)
    assert any("10 points were taken back" in t for t in texts)


async def test_woocommerce_order_in_another_currency_or_unpaid_changes_nothing(
    shop: App, shop_chat: Chat, hooks: httpx.AsyncClient
) -> None:
    await with_phone(shop_chat)
    before = await snapshot(shop)
    for change in (
        {"currency": "USD"},
        {"status": "pending", "currency": "SAR"},
        {"status": "on-hold", "currency": "SAR"},
    ):
        order = fixture("woocommerce_order_727.json") | change
        order["billing"]["phone"] = PHONE
        body = dumps(order)
        answer = await hooks.post(
            "/hooks/woocommerce", content=body, headers={"X-WC-Webhook-Signature": b64_hmac("woo-secret", body)}
        )
        assert answer.status_code == 200 and answer.json()["results"][0]["outcome"] == "ignored", answer.text
    assert await snapshot(shop) == before


async def test_shopify_orders_paid_earns_and_refunds_create_takes_back(
    shop: App, shop_chat: Chat, hooks: httpx.AsyncClient
) -> None:
    await with_phone(shop_chat)
    order = fixture("shopify_orders_paid.json")
    order["customer"]["phone"] = PHONE
    order["total_price_set"]["shop_money"]["currency_code"] = "SAR"

    async def post(topic: str, payload: dict[str, Any]) -> httpx.Response:
        body = dumps(payload)
        return await hooks.post(
            "/hooks/shopify",
            content=body,
            headers={
                "X-Shopify-Hmac-Sha256": b64_hmac("shopify-secret", body),
                "X-Shopify-Topic": topic,
                "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            },
        )

    paid = await post("orders/paid", order)
    assert paid.json()["results"] == [{"order_id": "820982911946154508", "outcome": "earned", "points": 393}]
    assert await balance_of(shop, EMMA) == 413
    assert (await post("orders/paid", order)).json()["results"][0]["outcome"] == "already_recorded"
    refund = await post("refunds/create", fixture("shopify_refunds_create.json"))
    assert refund.json()["results"][0]["outcome"] == "refunded" and refund.json()["results"][0]["reversed"] == 75
    assert (await post("refunds/create", fixture("shopify_refunds_create.json"))).json()["results"][0][
        "outcome"
    ] == "already_recorded"
    cancelled = await post("orders/cancelled", order)
    assert cancelled.json()["results"][0]["reversed"] == 393 - 75
    assert await balance_of(shop, EMMA) == 20
    unknown = await post("customers/create", {"id": 1})
    assert unknown.status_code == 200 and unknown.json()["results"][0]["outcome"] == "ignored"


async def test_salla_completed_order_earns_and_a_restored_order_takes_back(
    shop: App, shop_chat: Chat, hooks: httpx.AsyncClient
) -> None:
    await with_phone(shop_chat)
    event = fixture("salla_order_status_updated.json")
    event["data"]["order"]["customer"]["mobile"] = "0501234567"  # local form: read in SAR's Saudi Arabia

    async def post(payload: dict[str, Any]) -> httpx.Response:
        body = dumps(payload)
        return await hooks.post(
            "/hooks/salla", content=body, headers={"X-Salla-Signature": hex_hmac("salla-secret", body)}
        )

    created = fixture("salla_order_created.json")
    created["data"]["customer"]["mobile"] = 501234567
    assert (await post(created)).json()["results"][0]["outcome"] == "ignored"  # under review: not yet
    assert (await post(event)).json()["results"][0]["outcome"] == "earned"
    assert await balance_of(shop, EMMA) == 20 + 120
    assert (await post(event)).json()["results"][0]["outcome"] == "already_recorded"
    restored = copy.deepcopy(event)
    restored["data"]["order"]["status"] = {"id": 1, "name": "مسترجع", "slug": "restored"}
    assert (await post(restored)).json()["results"][0]["outcome"] == "refunded"
    assert await balance_of(shop, EMMA) == 20


async def test_zid_paid_order_earns_with_the_token_in_the_url_or_basic_auth(
    db_url: str, standin: BotAPIStandIn, clock: FakeClock
) -> None:
    kuwait = Program(currency="KWD")  # the documented example is in KWD
    app = await make_app(db_url, standin, clock=clock, program=kuwait, **SECRETS)
    chat = Chat(app, standin)
    try:
        await with_phone(chat)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app.http_app()), base_url="http://t") as client:
            order = fixture("zid_order.json") | {"payment_status": "paid"}
            answer = await client.post("/hooks/zid?token=zid-token", content=dumps(order))
            assert answer.json()["results"][0]["outcome"] == "earned", answer.text
            basic = "Basic " + base64.b64encode(b"wafa:zid-token").decode()
            again = await client.post("/hooks/zid", content=dumps(order), headers={"Authorization": basic})
            assert again.json()["results"][0]["outcome"] == "already_recorded"
            cancelled = order | {"order_status": {"code": "canceled", "name": "ملغي"}}
            assert (await client.post("/hooks/zid?token=zid-token", content=dumps(cancelled))).json()["results"][0][
                "outcome"
            ] == "refunded"
        assert await balance_of(app, EMMA) == 20
    finally:
        await app.close()


async def test_an_order_for_a_phone_nobody_has_waits_and_a_refund_of_an_unknown_order_is_200(
    shop: App, hooks: httpx.AsyncClient
) -> None:
    order = fixture("shopify_orders_paid.json")
    order["customer"]["phone"] = "+966507777777"
    order["total_price_set"]["shop_money"]["currency_code"] = "SAR"
    body = dumps(order)
    answer = await hooks.post(
        "/hooks/shopify",
        content=body,
        headers={"X-Shopify-Hmac-Sha256": b64_hmac("shopify-secret", body), "X-Shopify-Topic": "orders/paid"},
    )
    assert answer.json()["results"][0]["outcome"] == "pending_claim"
    refund = dumps(fixture("shopify_refunds_create.json") | {"order_id": 1})
    unknown = await hooks.post(
        "/hooks/shopify",
        content=refund,
        headers={"X-Shopify-Hmac-Sha256": b64_hmac("shopify-secret", refund), "X-Shopify-Topic": "refunds/create"},
    )
    assert unknown.status_code == 200 and unknown.json()["results"][0]["outcome"] == "ignored"
    no_phone = copy.deepcopy(order)
    no_phone["id"] = 5
    for holder in (no_phone["customer"], no_phone["billing_address"], no_phone["shipping_address"]):
        holder["phone"] = None
    body = dumps(no_phone)
    ignored = await hooks.post(
        "/hooks/shopify",
        content=body,
        headers={"X-Shopify-Hmac-Sha256": b64_hmac("shopify-secret", body), "X-Shopify-Topic": "orders/paid"},
    )
    assert ignored.json()["results"][0] == {"order_id": "5", "outcome": "ignored", "reason": "no valid phone number"}
