"""Points waiting for their owner (SPEC §9.3): a purchase for a phone nobody has,
credited once when a member shares that phone with the contact button; in
/member and /mydata; erased by /forget; expiring with the program."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import func, select

from bot.app import App
from bot.jobs import run_job
from storage.models import LedgerEntry, PhoneClaim
from tests.http.conftest import bearer
from tests.http.test_api import balance_of, join
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat, FakeClock

PHONE = "+966501234567"


async def buy(http: httpx.AsyncClient, key: str, order: str, amount: str, member: str = "0501234567") -> httpx.Response:
    return await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": order, "member": member, "amount": amount}
    )


async def test_waiting_points_are_credited_once_when_the_member_shares_their_own_phone(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    assert (await buy(http, key, "W-1", "80")).status_code == 202
    assert (await buy(http, key, "W-2", "45.50")).status_code == 202
    await join(chat, LAYLA)
    # A typed number or someone else's contact proves nothing.
    await chat.say(LAYLA, "+966501234567")
    await chat.share_contact(LAYLA, "966501234567", own=False)
    assert await balance_of(app, LAYLA) == 20
    replies = await chat.share_contact(LAYLA, "966501234567")
    text = "\n".join(r.text for r in replies)
    assert "١٢٥ نقطة" in text and "١٤٥ نقطة" in text, text  # 80 + 45 points, told in Arabic
    assert await balance_of(app, LAYLA) == 145
    await chat.share_contact(LAYLA, "966501234567")  # again: nothing more
    assert await balance_of(app, LAYLA) == 145
    async with app.ctx.uow(readonly=True) as uow:
        member = await uow.members.by_telegram_id(LAYLA.id)
        assert member is not None and member.phone == PHONE
        assert await uow.ledger.sum_for(member.id) == 145
        purchases = await uow.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "purchase"))
    assert purchases == 2
    # The order belongs to her now: a replay names her, a refund takes back from her balance.
    replay = await buy(http, key, "W-1", "80", member=PHONE)
    assert replay.status_code == 200 and replay.json()["member"] == member.code
    refund = await http.post("/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-1", "order_id": "W-1"})
    assert refund.json()["reversed"] == 80 and await balance_of(app, LAYLA) == 65


async def test_another_member_sharing_the_same_phone_later_gets_nothing(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    await buy(http, key, "W-1", "80")
    await join(chat, EMMA)
    await chat.share_contact(EMMA, "966501234567")
    await join(chat, SARA)
    await chat.share_contact(SARA, "966501234567")
    assert (await balance_of(app, EMMA), await balance_of(app, SARA)) == (100, 20)


async def test_a_refund_before_the_phone_is_shared_shrinks_what_waits(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    await buy(http, key, "W-1", "100")
    refund = await http.post(
        "/api/v1/refunds", headers=bearer(key), json={"refund_id": "R-1", "order_id": "W-1", "amount": "40"}
    )
    assert refund.status_code == 201
    assert refund.json() == {"refund_id": "R-1", "order_id": "W-1", "reversed": 40, "unrecovered": 0, "balance": None}
    await join(chat, EMMA)
    await chat.share_contact(EMMA, "966501234567")
    assert await balance_of(app, EMMA) == 20 + 60


async def test_member_card_shows_claims_and_a_phone_nobody_has_shows_what_waits(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    await chat.say(OWNER, "/start")
    await buy(http, key, "W-1", "80")
    await buy(http, key, "W-2", "20")
    waiting = await chat.reply_text(OWNER, "/member 0501234567")
    assert "100 points from 2 online purchases wait for it" in waiting
    assert "No member matches" in await chat.reply_text(OWNER, "/member 0509999999")
    member = await join(chat, EMMA)
    await chat.share_contact(EMMA, "966501234567")
    card = await chat.reply_text(OWNER, f"/member {member.code}")
    assert "Credited from online orders by phone: 100 points" in card


async def test_mydata_lists_claims_and_forget_erases_their_phone(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    await buy(http, key, "W-1", "80")
    await join(chat, EMMA)
    await chat.share_contact(EMMA, "966501234567")
    await buy(http, key, "W-9", "10", member="+966501234599")  # someone else's number: not hers
    data = json.loads((await chat.say(EMMA, "/mydata"))[-1].document.decode("utf-8"))  # type: ignore[union-attr]
    [claim] = data["points_that_waited_for_your_phone"]
    assert (
        claim["status"] == "credited" and claim["order"] == "W-1" and claim["points"] == 80 and claim["shop"] == "api"
    )
    assert data["member"]["phone"] == PHONE
    ask = (await chat.say(EMMA, "/forget"))[-1]
    await chat.press(EMMA, ask, chat.standin.buttons(ask)[0][1])
    async with app.ctx.uow(readonly=True) as uow:
        phones = list(await uow.session.scalars(select(PhoneClaim.phone).order_by(PhoneClaim.id)))
    assert phones == [None, "+966501234599"]


async def test_forget_drops_claims_still_waiting_for_the_members_phone(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    await join(chat, EMMA)
    await chat.share_contact(EMMA, "966501234567")
    # A claim can wait for a member's phone when the shop sent a number the member shared later
    # under another form; make one directly to see /forget take it.
    await buy(http, key, "W-1", "80", member="+966501234568")
    async with app.ctx.uow() as uow:
        claim = await uow.session.scalar(select(PhoneClaim))
        assert claim is not None
        claim.phone = PHONE
        await uow.commit()
    ask = (await chat.say(EMMA, "/forget"))[-1]
    await chat.press(EMMA, ask, chat.standin.buttons(ask)[0][1])
    async with app.ctx.uow(readonly=True) as uow:
        claim = await uow.session.scalar(select(PhoneClaim))
    assert claim is not None and (claim.status, claim.phone) == ("erased", None)


async def test_claims_expire_with_the_programs_expiry(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str, clock: FakeClock
) -> None:
    await buy(http, key, "W-1", "80")
    clock.advance(days=366)  # the café's points expire after 12 months
    summary = await run_job(app, "expiry", None)
    assert "1 claim(s) for a phone expired" in summary
    await join(chat, EMMA)
    await chat.share_contact(EMMA, "966501234567")
    assert await balance_of(app, EMMA) == 20
    async with app.ctx.uow(readonly=True) as uow:
        claim = await uow.session.scalar(select(PhoneClaim))
    assert claim is not None and (claim.status, claim.phone) == ("expired", None)


async def test_credited_claim_points_keep_their_purchase_expiry(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str, clock: FakeClock
) -> None:
    bought = clock()
    await buy(http, key, "W-1", "80")
    clock.advance(days=100)
    await join(chat, EMMA)
    await chat.share_contact(EMMA, "966501234567")
    async with app.ctx.uow(readonly=True) as uow:
        entry = await uow.ledger.by_key("order:api:W-1")
    assert entry is not None and entry.expires_at is not None
    assert entry.expires_at.date() == bought.replace(year=bought.year + 1).date()
