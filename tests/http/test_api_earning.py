"""`/api/v1` and the earning of SPEC §11, on SQLite and PostgreSQL: `POST /api/v1/events`
for `api` actions (idempotent by event_id, limits apply, refusals change nothing), a
purchase carrying `"stamps": n` (capped by the day, one card's voucher, idempotent with
the order), and the member's `"stamps"` when the program has stamp cards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import App
from bot.services import api_keys
from standin import BotAPIStandIn
from storage.models import ActionClaim, LedgerEntry, OutboxMessage, ShopOrder, StampEntry
from tests.handlers.earning_support import books, cafe, cafe_chat, count, member_of
from tests.http.conftest import bearer
from tests.support import EMMA, SARA, Chat, FakeClock

__all__ = ["cafe", "cafe_chat"]  # fixtures


@pytest.fixture
async def cafe_http(cafe: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=cafe.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://wafa.test") as client:
        yield client


@pytest.fixture
async def cafe_key(cafe: App) -> str:
    return await api_keys.create_key(cafe.ctx, "pos-1")


async def test_an_api_event_pays_once_per_event_and_its_limit_applies(
    cafe_chat: Chat, cafe: App, cafe_http: httpx.AsyncClient, cafe_key: str, clock: FakeClock
) -> None:
    await cafe_chat.say(EMMA, "/start")
    emma = await member_of(cafe, EMMA)
    body = {"event_id": "ev-1", "member": emma.code, "action": "app-order"}
    first = await cafe_http.post("/api/v1/events", json=body, headers=bearer(cafe_key))
    assert first.status_code == 201, first.text
    assert first.json() == {
        "event_id": "ev-1", "member": emma.code, "action": "app-order", "status": "credited", "points": 10,
        "balance": 30,
    }
    again = await cafe_http.post("/api/v1/events", json=body, headers=bearer(cafe_key))
    assert again.status_code == 200 and again.json() == first.json()
    # monthly: a second event this month is kept, pays nothing, and answers the same again
    over = await cafe_http.post(
        "/api/v1/events", json={**body, "event_id": "ev-2"}, headers=bearer(cafe_key)
    )
    assert over.status_code == 201 and over.json()["status"] == "over_limit" and over.json()["points"] == 0
    assert (await books(cafe, emma.id))["balance"] == 30 == (await books(cafe, emma.id))["ledger"]
    await cafe_chat.deliver_outbox()
    told = [m.text for m in cafe_chat.standin.messages(EMMA.id) if "Order in our app" in (m.text or "")]
    assert len(told) == 1  # told once, for the paid event only
    clock.advance(days=31)
    later = await cafe_http.post(
        "/api/v1/events", json={**body, "event_id": "ev-3"}, headers=bearer(cafe_key)
    )
    assert later.json()["status"] == "credited" and later.json()["balance"] == 40


async def test_api_event_refusals_change_nothing(
    cafe_chat: Chat, cafe: App, cafe_http: httpx.AsyncClient, cafe_key: str
) -> None:
    await cafe_chat.say(EMMA, "/start")
    await cafe_chat.say(SARA, "/start")
    emma, sara = await member_of(cafe, EMMA), await member_of(cafe, SARA)
    ok = {"event_id": "ev-1", "member": emma.code, "action": "app-order"}
    assert (await cafe_http.post("/api/v1/events", json=ok, headers=bearer(cafe_key))).status_code == 201
    before = (await count(cafe, LedgerEntry), await count(cafe, ActionClaim), await count(cafe, OutboxMessage))
    cases = {
        ("ev-1", sara.code, "app-order"): (409, "event_conflict"),
        ("ev-9", emma.code, "nope"): (404, "action_unknown"),
        ("ev-9", emma.code, "review"): (422, "action_wrong_verification"),  # a staff-approved action
        ("ev-9", "ZZZZZZ", "app-order"): (404, "member_not_found"),
        ("x" * 101, emma.code, "app-order"): (422, "invalid_event_id"),
        ("   ", emma.code, "app-order"): (422, "invalid_event_id"),
    }
    for (event_id, member, action), (status, code) in cases.items():
        answer = await cafe_http.post(
            "/api/v1/events", json={"event_id": event_id, "member": member, "action": action},
            headers=bearer(cafe_key),
        )
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), (event_id, answer.text)
    missing = await cafe_http.post("/api/v1/events", json={"member": emma.code}, headers=bearer(cafe_key))
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "event_id"
    narrow = await api_keys.create_key(cafe.ctx, "shop", "purchases:write")
    assert (await cafe_http.post("/api/v1/events", json=ok, headers=bearer(narrow))).status_code == 403
    assert (await cafe_http.post("/api/v1/events", json=ok)).status_code == 401
    after = (await count(cafe, LedgerEntry), await count(cafe, ActionClaim), await count(cafe, OutboxMessage))
    assert after == before


async def test_a_purchase_with_stamps_fills_the_card_within_the_days_cap_once(
    cafe_chat: Chat, cafe: App, cafe_http: httpx.AsyncClient, cafe_key: str
) -> None:
    # the cafe: every 3rd stamp a coffee, at most 2 stamps a day
    await cafe_chat.say(EMMA, "/start")
    emma = await member_of(cafe, EMMA)
    card = await cafe_http.get(f"/api/v1/members/{emma.code}", headers=bearer(cafe_key))
    assert card.json()["stamps"] == 0
    body = {"order_id": "A-1", "member": emma.code, "amount": "12", "stamps": 1}
    first = await cafe_http.post("/api/v1/purchases", json=body, headers=bearer(cafe_key))
    assert first.status_code == 201, first.text
    assert first.json()["stamps"] == 1 and first.json()["stamps_over_cap"] == 0
    assert first.json()["stamps_on_card"] == 1 and first.json()["points"] == 12
    replay = await cafe_http.post("/api/v1/purchases", json=body, headers=bearer(cafe_key))
    assert replay.status_code == 200 and replay.json() == first.json()
    capped = await cafe_http.post(
        "/api/v1/purchases", json={**body, "order_id": "A-2", "stamps": 3}, headers=bearer(cafe_key)
    )
    assert capped.status_code == 201
    assert (capped.json()["stamps"], capped.json()["stamps_over_cap"], capped.json()["stamps_on_card"]) == (1, 2, 2)
    over = await cafe_http.post(
        "/api/v1/purchases", json={**body, "order_id": "A-3", "stamps": 1}, headers=bearer(cafe_key)
    )
    assert over.status_code == 201 and over.json()["stamps"] == 0 and over.json()["stamps_over_cap"] == 1
    assert over.json()["points"] == 12  # the purchase counts all the same
    state = await books(cafe, emma.id)
    assert state["stamps"] == 2 == state["stamp_ledger"] and state["balance"] == state["ledger"] == 20 + 36
    assert (await cafe_http.get(f"/api/v1/members/{emma.code}", headers=bearer(cafe_key))).json()["stamps"] == 2


async def test_stamps_in_a_purchase_without_a_stamp_card_are_refused_whole(
    app: App, chat: Chat, standin: BotAPIStandIn
) -> None:
    # a program without stamp cards: 422 no_stamp_card, no order; the member has no "stamps"
    transport = httpx.ASGITransport(app=app.http_app())
    plain_key = await api_keys.create_key(app.ctx, "pos")
    await chat.say(EMMA, "/start")
    plain = await member_of(app, EMMA)
    async with httpx.AsyncClient(transport=transport, base_url="http://wafa.test") as client:
        refused = await client.post(
            "/api/v1/purchases", json={"order_id": "A-1", "member": plain.code, "amount": "5", "stamps": 1},
            headers=bearer(plain_key),
        )
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "no_stamp_card"
        assert await count(app, ShopOrder) == 0
        assert "stamps" not in (await client.get(f"/api/v1/members/{plain.code}", headers=bearer(plain_key))).json()
        no_stamps = await client.post(
            "/api/v1/purchases", json={"order_id": "A-2", "member": plain.code, "amount": "5"},
            headers=bearer(plain_key),
        )
        assert no_stamps.status_code == 201 and "stamps" not in no_stamps.json()


async def test_malformed_stamps_are_422_naming_the_field_and_change_nothing(
    cafe_chat: Chat, cafe: App, cafe_http: httpx.AsyncClient, cafe_key: str
) -> None:
    await cafe_chat.say(SARA, "/start")
    sara = await member_of(cafe, SARA)
    for bad in (-1, 101, "2", 1.5, True):
        answer = await cafe_http.post(
            "/api/v1/purchases", json={"order_id": "B-1", "member": sara.code, "amount": "5", "stamps": bad},
            headers=bearer(cafe_key),
        )
        assert answer.status_code == 422 and answer.json()["error"]["field"] == "stamps", (bad, answer.text)
    assert await count(cafe, ShopOrder) == 0 and await count(cafe, StampEntry) == 0
