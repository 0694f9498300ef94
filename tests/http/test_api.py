"""`/api/v1` through the real ASGI app (SPEC §9.1), on SQLite and PostgreSQL:
keys and scopes, members, purchases earning as /award does, refunds, vouchers,
and every bad input with its status, changing nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
from sqlalchemy import func, select

from bot.app import App
from bot.services import api_keys
from storage.models import (
    AuditEntry,
    LedgerEntry,
    Member,
    OrderRefund,
    OutboxMessage,
    ShopOrder,
)
from tests.handlers.rewards_support import vouchers_of
from tests.handlers.test_rewards_flow import redeem_in_two_taps
from tests.http.conftest import bearer
from tests.support import EMMA, LAYLA, OWNER, Chat, FakeClock, Person


async def join(chat: Chat, person: Person) -> Member:
    await chat.say(person, "/start")
    async with chat.app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(person.id)
        assert member is not None
        return member


async def snapshot(app: App) -> tuple[int, int, int, int, int]:
    """What a refused request must not change: ledger, balances, orders, refunds, outbox."""
    async with app.ctx.uow(readonly=True) as uow:
        s = uow.session
        return (
            int(await s.scalar(select(func.count(LedgerEntry.id))) or 0),
            int(await s.scalar(select(func.coalesce(func.sum(Member.balance), 0))) or 0),
            int(await s.scalar(select(func.count(ShopOrder.id))) or 0),
            int(await s.scalar(select(func.count(OrderRefund.id))) or 0),
            int(await s.scalar(select(func.count(OutboxMessage.id))) or 0),
        )


async def balance_of(app: App, person: Person) -> int:
    async with app.ctx.uow(readonly=True) as uow:
        member = await uow.members.by_telegram_id(person.id)
        assert member is not None
        return int(member.balance)


# -- keys and scopes -------------------------------------------------------------------
async def test_no_key_unknown_key_revoked_key_are_401_and_a_key_without_the_scope_403(
    app: App, chat: Chat, http: httpx.AsyncClient
) -> None:
    member = await join(chat, EMMA)
    body = {"order_id": "A-1", "member": member.code, "amount": "10"}
    before = await snapshot(app)
    missing = await http.post("/api/v1/purchases", json=body)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthenticated"
    assert missing.headers["www-authenticate"] == "Bearer"
    unknown = await http.post("/api/v1/purchases", json=body, headers=bearer("wafa_" + "x" * 32))
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "invalid_key"
    wrong_scheme = await http.post("/api/v1/purchases", json=body, headers={"Authorization": "Basic abc"})
    assert wrong_scheme.status_code == 401
    reader = await api_keys.create_key(app.ctx, "reader", "members:read")
    forbidden = await http.post("/api/v1/purchases", json=body, headers=bearer(reader))
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "insufficient_scope"
    assert "purchases:write" in forbidden.json()["error"]["message"]
    assert (await http.get(f"/api/v1/members/{member.code}", headers=bearer(reader))).status_code == 200
    writer = await api_keys.create_key(app.ctx, "writer", "purchases:write")
    assert await api_keys.revoke_key(app.ctx, "writer")
    revoked = await http.post("/api/v1/purchases", json=body, headers=bearer(writer))
    assert revoked.status_code == 401
    # The key is checked before the body is read: a malformed body without a key is still 401.
    assert (await http.post("/api/v1/purchases", content=b"{nope")).status_code == 401
    assert await snapshot(app) == before


async def test_only_a_hash_of_the_key_is_stored(app: App) -> None:
    key = await api_keys.create_key(app.ctx, "pos-9")
    assert key.startswith("wafa_") and len(key) >= 37
    async with app.ctx.uow(readonly=True) as uow:
        rows = await uow.api_keys.all()
    assert len(rows) == 1 and key not in repr(vars(rows[0])) and rows[0].key_hash != key
    assert rows[0].prefix == key[:9]


# -- members ---------------------------------------------------------------------------
async def test_member_by_code_id_username_and_phone_in_any_digits(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    member = await join(chat, EMMA)
    await chat.share_contact(EMMA, "966501234567")
    for ref in (
        member.code,
        member.code.lower(),
        str(EMMA.id),
        "@emma_w",
        "+966501234567",
        "0501234567",
        "٠٥٠١٢٣٤٥٦٧",
        "+966 50 123 4567",
    ):
        answer = await http.get(f"/api/v1/members/{ref}", headers=bearer(key))
        assert answer.status_code == 200, (ref, answer.text)
        body = answer.json()
        assert body["code"] == member.code and body["first_name"] == "Emma" and body["language"] == "en"
        assert body["tier"] == "Silver" and body["balance"] == 20 and body["joined_at"].startswith("2026-03-10")
    missing = await http.get("/api/v1/members/ZZZZZZ", headers=bearer(key))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "member_not_found"
    nobody = await http.get("/api/v1/members/+966509999999", headers=bearer(key))
    assert nobody.status_code == 404


# -- purchases -------------------------------------------------------------------------
async def test_purchase_earns_as_award_does_and_the_member_is_told(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    member = await join(chat, LAYLA)
    answer = await http.post(
        "/api/v1/purchases",
        headers=bearer(key),
        json={"order_id": "A-1001", "member": member.code, "amount": "١٢٠٫٥٠", "note": "2 lattes"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"order_id": "A-1001", "member": member.code, "points": 120, "balance": 140}
    async with app.ctx.uow(readonly=True) as uow:
        entry = await uow.ledger.by_key("order:api:A-1001")
        audit = list(await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "order_purchase")))
    assert (
        entry is not None
        and entry.kind == "purchase"
        and entry.amount == Decimal("120.50")
        and entry.note == "2 lattes"
    )
    assert audit and audit[0].details["via"] == "api:pos-1"
    await chat.deliver_outbox()
    notice = chat.standin.messages(LAYLA.id)[-1].text
    assert "١٢٠ نقطة" in notice and "١٤٠ نقطة" in notice  # in Arabic, with Arabic-Indic digits


async def test_tier_multiplier_and_campaign_apply_as_at_the_counter(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    member = await join(chat, EMMA)
    await chat.say(OWNER, "/campaign 2 48h")
    answer = await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "C-1", "member": member.code, "amount": 100}
    )
    assert answer.status_code == 201 and answer.json()["points"] == 200


async def test_same_order_again_is_200_with_the_first_result_and_another_member_or_amount_is_409(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    emma, layla = await join(chat, EMMA), await join(chat, LAYLA)
    first = await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "A-1", "member": emma.code, "amount": "50"}
    )
    assert first.status_code == 201
    before = await snapshot(app)
    again = await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "A-1", "member": "@emma_w", "amount": 50}
    )
    assert again.status_code == 200 and again.json() == first.json()
    other_member = await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "A-1", "member": layla.code, "amount": "50"}
    )
    other_amount = await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "A-1", "member": emma.code, "amount": "51"}
    )
    for answer in (other_member, other_amount):
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "order_conflict"
    assert await snapshot(app) == before


async def test_the_same_order_posted_twenty_times_at_once_earns_once(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    member = await join(chat, EMMA)
    body = {"order_id": "RACE-1", "member": member.code, "amount": "100"}
    answers = await asyncio.gather(*(http.post("/api/v1/purchases", headers=bearer(key), json=body) for _ in range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 19 + [201], [a.text for a in answers if a.status_code not in (200, 201)]
    assert {a.json()["points"] for a in answers} == {100} and {a.json()["balance"] for a in answers} == {120}
    assert await balance_of(app, EMMA) == 120
    async with app.ctx.uow(readonly=True) as uow:
        assert await uow.ledger.sum_for(member.id) == 120
        receipts = await uow.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "points_awarded")
        )
    assert receipts == 1


async def test_bad_purchases_get_their_status_and_change_nothing(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    member = await join(chat, EMMA)
    before = await snapshot(app)
    cases: list[tuple[object, int, str, str | None]] = [
        ({"order_id": "A-1", "member": member.code, "amount": "0"}, 422, "invalid_amount", "amount"),
        ({"order_id": "A-1", "member": member.code, "amount": "-5"}, 422, "invalid_amount", "amount"),
        ({"order_id": "A-1", "member": member.code, "amount": "abc"}, 422, "invalid_amount", "amount"),
        ({"order_id": "A-1", "member": member.code, "amount": "1.234"}, 422, "invalid_amount", "amount"),
        ({"order_id": "A-1", "member": member.code, "amount": "100000001"}, 422, "amount_too_large", "amount"),
        ({"order_id": "A-1", "member": member.code, "amount": True}, 422, "invalid_field", "amount"),
        ({"order_id": "A-1", "member": member.code}, 422, "invalid_field", "amount"),
        ({"member": member.code, "amount": "10"}, 422, "invalid_field", "order_id"),
        ({"order_id": "", "member": member.code, "amount": "10"}, 422, "invalid_reference", "order_id"),
        ({"order_id": "x" * 65, "member": member.code, "amount": "10"}, 422, "invalid_reference", "order_id"),
        ({"order_id": "A-1", "member": member.code, "amount": "10", "extra": 1}, 422, "invalid_field", "extra"),
        ({"order_id": "A-1", "member": member.code, "amount": "10", "note": "n" * 201}, 422, "note_too_long", "note"),
        ({"order_id": "A-1", "member": "ZZZZZZ", "amount": "10"}, 404, "member_not_found", "member"),
        ({"order_id": "A-1", "member": "@nobody_here", "amount": "10"}, 404, "member_not_found", "member"),
        ({"order_id": "A-1", "member": "+12", "amount": "10"}, 404, "member_not_found", "member"),
        ({"order_id": "A-1", "member": "+999 1234567", "amount": "10"}, 422, "invalid_phone", "member"),
        ([1, 2], 422, "invalid_field", "body"),
    ]
    for body, status, code, field in cases:
        answer = await http.post("/api/v1/purchases", headers=bearer(key), json=body)
        assert answer.status_code == status, (body, answer.text)
        error = answer.json()["error"]
        assert error["code"] == code and error.get("field") == field and error["message"], (body, error)
    malformed = await http.post("/api/v1/purchases", headers=bearer(key), content=b'{"order_id": ')
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "malformed_json"
    huge = await http.post(
        "/api/v1/purchases",
        headers={**bearer(key), "Content-Type": "application/json"},
        content=b'{"note": "' + b"x" * (65 * 1024) + b'"}',
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "body_too_large"

    async def chunks() -> object:
        for _ in range(70):
            yield b" " * 1024

    chunked = await http.post("/api/v1/purchases", headers=bearer(key), content=chunks())  # no Content-Length
    assert chunked.status_code == 413
    assert await snapshot(app) == before


async def test_a_phone_nobody_has_yet_is_202_and_the_points_wait(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    answer = await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "W-1", "member": "0501234567", "amount": "80"}
    )
    assert answer.status_code == 202 and answer.json()["status"] == "pending_claim" and answer.json()["points"] == 80
    again = await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "W-1", "member": "+966501234567", "amount": "80"}
    )
    assert again.status_code == 202
    conflict = await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "W-1", "member": "+966501234568", "amount": "80"}
    )
    assert conflict.status_code == 409
    async with app.ctx.uow(readonly=True) as uow:
        assert await uow.claims.waiting_for("+966501234567", now=app.ctx.now()) == (1, 80)
        assert int(await uow.session.scalar(select(func.count(LedgerEntry.id))) or 0) == 0


# -- refunds ---------------------------------------------------------------------------
async def test_refunds_take_back_proportionally_once_and_never_beyond_the_order(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    member = await join(chat, EMMA)
    await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "A-1", "member": member.code, "amount": "300"}
    )
    part = await http.post(
        "/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-1", "order_id": "A-1", "amount": "100"}
    )
    assert part.status_code == 201, part.text
    assert part.json() == {"refund_id": "R-1", "order_id": "A-1", "reversed": 100, "unrecovered": 0, "balance": 220}
    again = await http.post(
        "/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-1", "order_id": "A-1", "amount": "100"}
    )
    assert again.status_code == 200 and again.json() == part.json()
    before = await snapshot(app)
    over = await http.post(
        "/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-2", "order_id": "A-1", "amount": "200.01"}
    )
    assert over.status_code == 422 and over.json()["error"]["code"] == "refund_exceeds_order"
    conflict = await http.post(
        "/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-1", "order_id": "A-1", "amount": "99"}
    )
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "refund_conflict"
    unknown = await http.post("/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-9", "order_id": "NOPE"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "order_not_found"
    zero = await http.post(
        "/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-3", "order_id": "A-1", "amount": "0"}
    )
    assert zero.status_code == 422
    assert await snapshot(app) == before
    rest = await http.post("/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-4", "order_id": "A-1"})
    assert rest.status_code == 201 and rest.json()["reversed"] == 200 and rest.json()["balance"] == 20
    nothing_left = await http.post("/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-5", "order_id": "A-1"})
    assert nothing_left.status_code == 422
    async with app.ctx.uow(readonly=True) as uow:
        assert await uow.ledger.sum_for(member.id) == 20 == await balance_of(app, EMMA)
    await chat.deliver_outbox()
    assert "200 points were taken back" in chat.standin.messages(EMMA.id)[-1].text


async def test_points_already_spent_are_reported_unrecovered_and_the_balance_never_goes_negative(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    member = await join(chat, EMMA)
    await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "A-1", "member": member.code, "amount": "200"}
    )
    await chat.say(OWNER, f"/adjust {member.code} -190 spent at the counter")
    assert await balance_of(app, EMMA) == 30
    answer = await http.post("/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-1", "order_id": "A-1"})
    assert answer.status_code == 201
    assert answer.json() == {"refund_id": "R-1", "order_id": "A-1", "reversed": 30, "unrecovered": 170, "balance": 0}
    assert await balance_of(app, EMMA) == 0


async def test_three_uneven_refunds_take_back_exactly_the_orders_points(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    member = await join(chat, EMMA)
    await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "A-1", "member": member.code, "amount": "100"}
    )
    reversed_total = 0
    for n, amount in enumerate(("33.33", "33.33", "33.34")):
        answer = await http.post(
            "/api/v1/refunds", headers=bearer(key), json={"refund_id": f"R-{n}", "order_id": "A-1", "amount": amount}
        )
        reversed_total += answer.json()["reversed"]
    assert reversed_total == 100 and await balance_of(app, EMMA) == 20


# -- vouchers --------------------------------------------------------------------------
async def test_voucher_status_and_redeem_as_at_the_counter(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str, clock: FakeClock
) -> None:
    await app.prepare_database()  # the café's seeded rewards
    member = await join(chat, EMMA)
    await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "A-1", "member": member.code, "amount": "200"}
    )
    await redeem_in_two_taps(chat, EMMA, "Free coffee")
    voucher = (await vouchers_of(app, member.id))[0]
    status = await http.get(f"/api/v1/vouchers/{voucher.code.lower()}", headers=bearer(key))
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "active" and status.json()["member"] == member.code
    assert status.json()["reward"]["name"]["en"] == "Free coffee"
    used = await http.post(f"/api/v1/vouchers/{voucher.code}/redeem", headers={**bearer(key), "Idempotency-Key": "t-1"})
    assert used.status_code == 200 and used.json()["status"] == "used" and used.json()["used_at"]
    retry = await http.post(
        f"/api/v1/vouchers/{voucher.code}/redeem", headers={**bearer(key), "Idempotency-Key": "t-1"}
    )
    assert retry.status_code == 200
    twice = await http.post(f"/api/v1/vouchers/{voucher.code}/redeem", headers=bearer(key))
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "voucher_used"
    assert "used" in await chat.reply_text(OWNER, f"/redeem {voucher.code}")  # the counter agrees
    # Change the last character to a different one: a fixed "X" is the real code one time in 32.
    wrong = voucher.code[:-1] + ("Y" if voucher.code[-1] == "X" else "X")
    unknown = await http.get(f"/api/v1/vouchers/{wrong}", headers=bearer(key))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "voucher_not_found"
    reader = await api_keys.create_key(app.ctx, "reader", "members:read")
    assert (await http.post(f"/api/v1/vouchers/{voucher.code}/redeem", headers=bearer(reader))).status_code == 403


async def test_an_expired_voucher_is_410(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str, clock: FakeClock
) -> None:
    await app.prepare_database()
    member = await join(chat, EMMA)
    await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "A-1", "member": member.code, "amount": "200"}
    )
    await redeem_in_two_taps(chat, EMMA, "Free coffee")
    voucher = (await vouchers_of(app, member.id))[0]
    clock.advance(days=40)
    assert (await http.get(f"/api/v1/vouchers/{voucher.code}", headers=bearer(key))).json()["status"] == "expired"
    gone = await http.post(f"/api/v1/vouchers/{voucher.code}/redeem", headers=bearer(key))
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "voucher_expired"


# -- the OpenAPI document --------------------------------------------------------------
async def test_openapi_document_and_docs_page(http: httpx.AsyncClient) -> None:
    document = (await http.get("/api/openapi.json")).json()
    paths = document["paths"]
    assert {
        "/api/v1/members/{ref}",
        "/api/v1/purchases",
        "/api/v1/refunds",
        "/api/v1/vouchers/{code}",
        "/api/v1/vouchers/{code}/redeem",
    } <= set(paths)
    purchase = paths["/api/v1/purchases"]["post"]
    body = purchase["requestBody"]["content"]["application/json"]
    assert body["example"]["order_id"] == "A-1001" and "order_id" in body["schema"]["properties"]
    assert {"200", "201", "202", "401", "403", "409", "413", "422"} <= set(purchase["responses"])
    assert purchase["security"] == [{"HTTPBearer": []}]
    page = await http.get("/api/docs")
    assert page.status_code == 200 and "/api/openapi.json" in page.text
