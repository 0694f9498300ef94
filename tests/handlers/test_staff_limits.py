"""Staff cannot credit their own account (SPEC §4): /award, /stamp, /setbirthday are
refused for staff with a clear answer; an owner may, and the audit says so. And the
cashier's /award reply says why the points differ from the amount."""
from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from storage.models import AuditEntry, LedgerEntry, StampEntry
from tests.handlers.earning_support import cafe, cafe_chat  # noqa: F401  (fixtures)
from tests.handlers.test_core_flow import member_of
from tests.handlers.test_survey_flow import add_cashier
from tests.support import CASHIER, EMMA, OWNER, Chat


async def entries(app: App, model: type, member_id: int) -> int:
    async with app.ctx.uow() as uow:
        return len((await uow.session.scalars(select(model).where(model.member_id == member_id))).all())  # type: ignore[attr-defined]


async def test_a_cashier_cannot_award_or_set_a_birthday_for_themselves(chat: Chat, app: App) -> None:
    await add_cashier(chat, app)
    cashier = await member_of(app, CASHIER)
    for target in (str(CASHIER.id), cashier.code, "@cyrus_cash"):
        reply = await chat.reply_text(CASHIER, f"/award {target} 5000")
        assert "کارکنان نمی‌توانند به خودشان امتیاز بدهند" in reply and "چیزی تغییر نکرد" in reply
    assert await entries(app, LedgerEntry, cashier.id) == 1  # the signup bonus only
    reply = await chat.reply_text(CASHIER, f"/setbirthday {cashier.code} 1990-05-17")
    assert "کارکنان نمی‌توانند تاریخ تولد خودشان را تغییر دهند" in reply
    assert (await member_of(app, CASHIER)).birth_calendar is None
    # Another member is fine.
    await chat.say(EMMA, "/start")
    assert "✅" in await chat.reply_text(CASHIER, "/award @emma_w 30")


async def test_an_owner_may_award_themselves_and_it_is_audited(chat: Chat, app: App) -> None:
    await chat.say(OWNER, "/start")
    owner = await member_of(app, OWNER)
    assert "✅" in await chat.reply_text(OWNER, f"/award {owner.code} 40")
    await chat.say(OWNER, f"/setbirthday {owner.code} 1990-05-17")
    async with app.ctx.uow() as uow:
        audit = (await uow.session.scalars(select(AuditEntry).where(AuditEntry.member_id == owner.id))).all()
    assert {(a.action, a.details.get("own_account")) for a in audit} == {("award", True), ("set_birthday", True)}


async def test_a_cashier_cannot_stamp_their_own_card(cafe_chat: Chat, cafe: App) -> None:  # noqa: F811
    await add_cashier(cafe_chat, cafe)
    cashier = await member_of(cafe, CASHIER)
    reply = await cafe_chat.reply_text(CASHIER, f"/stamp {cashier.code}")
    assert "کارکنان نمی‌توانند برای کارت خودشان مهر بزنند" in reply
    assert await entries(cafe, StampEntry, cashier.id) == 0


async def test_the_award_reply_says_why_points_differ_from_the_amount(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    plain = await chat.reply_text(OWNER, "/award @emma_w 100")
    assert "Includes" not in plain
    await chat.say(OWNER, "/award @emma_w 500")  # reaches Gold (×1.25)
    gold = await chat.reply_text(OWNER, "/award @emma_w 100")
    assert "✅ 125 points" in gold and "Includes ×1.25 for the member's tier (Gold)." in gold
    await chat.say(OWNER, "/campaign 2 48h")
    both = await chat.reply_text(OWNER, "/award @emma_w 100")
    assert "✅ 250 points" in both and "×1.25 for the member's tier" in both
    assert "Includes ×2 for the running campaign." in both
