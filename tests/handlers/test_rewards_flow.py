"""/rewards, vouchers and /redeem through the real dispatcher, including forged and
stale buttons, which are refused with a clear answer and change nothing."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.app import App
from bot.domain.rewards import new_voucher_code
from bot.telegram.routers.rewards import RewardConfirm, RewardPick, VoucherShow
from storage.models import ActionToken, Voucher
from tests.handlers.rewards_support import (
    add_reward,
    button,
    join,
    latest,
    ledger_count,
    member_of,
    vouchers_of,
    with_buttons,
)
from tests.support import CASHIER, EMMA, LAYLA, OWNER, SARA, Chat, FakeClock


async def redeem_in_two_taps(chat: Chat, person, name: str):  # type: ignore[no-untyped-def]
    catalog = with_buttons(await chat.say(person, "/rewards"))
    await chat.press(person, catalog, button(chat, catalog, name))
    prompt = latest(chat, person)
    sent = await chat.press(person, prompt, RewardConfirm(token=_token(chat, prompt)).pack())
    return sent[-1]


def _token(chat: Chat, prompt) -> str:  # type: ignore[no-untyped-def]
    data = next(d for _, d in chat.standin.buttons(prompt) if d and d.startswith("rwc:"))
    return RewardConfirm.unpack(data).token


async def test_the_catalog_shows_what_the_member_can_do_with_each_reward(chat: Chat, app: App) -> None:
    await app.prepare_database()  # the café's three seeded rewards: pastry 100, coffee 150, 10% off 300
    await add_reward(app, name={"en": "Gold mug"}, cost=50, min_tier=1)
    await add_reward(app, name={"en": "Tote bag"}, cost=10, stock=0)
    await add_reward(app, name={"en": "Old offer"}, cost=10, active=False)
    await join(chat, app, EMMA, points=110)  # 130 points
    catalog = with_buttons(await chat.say(EMMA, "/rewards"))
    text = catalog.text
    assert "Balance" not in text and "your balance: 130 points" in text
    assert "Free pastry — 100 points · ✅ ready to redeem" in text
    assert "Free coffee — 150 points · 20 points more to go" in text
    assert "Gold mug — 50 points · 🔒 for Gold members and above" in text
    assert "Tote bag — 10 points · sold out" in text and "Old offer" not in text
    labels = [label for label, _ in chat.standin.buttons(catalog)]
    assert labels == ["🎁 Free pastry · 100 points"]
    assert all(len(data.encode()) <= 64 for _, data in chat.standin.buttons(catalog) if data)


async def test_arabic_member_redeems_and_gets_a_voucher_in_arabic(chat: Chat, app: App) -> None:
    await app.prepare_database()
    layla = await join(chat, app, LAYLA, points=200)
    catalog = with_buttons(await chat.say(LAYLA, "/rewards"))
    assert "قهوة مجانية" in catalog.text and "٢٢٠" in catalog.text
    voucher = await redeem_in_two_taps(chat, LAYLA, "قهوة مجانية")
    assert voucher.kind == "photo" and "قسيمة" in voucher.text and "٧٠ نقطة" in voucher.text
    [row] = await vouchers_of(app, layla.id)
    assert row.code in voucher.text and f"\u2068{row.code}" in voucher.raw_text.replace("<code>", "")
    assert (await member_of(app, LAYLA)).balance == 70
    history = await chat.reply_text(LAYLA, "/history")
    assert "مكافأة: قهوة مجانية" in history and "−١٥٠" in history


async def test_my_vouchers_shows_the_qr_again_and_refuses_someone_elses(chat: Chat, app: App) -> None:
    await app.prepare_database()
    await join(chat, app, EMMA, points=200)
    await redeem_in_two_taps(chat, EMMA, "Free pastry")
    catalog = with_buttons(await chat.say(EMMA, "/rewards"))
    listed = await chat.press(EMMA, catalog, button(chat, catalog, "My vouchers (1)"))
    assert "Your vouchers" in listed[-1].text
    again = await chat.press(EMMA, listed[-1], button(chat, listed[-1], "Show the QR"))
    assert again[-1].kind == "photo" and "Free pastry" in again[-1].text
    [emmas] = await vouchers_of(app, (await member_of(app, EMMA)).id)

    await join(chat, app, SARA, points=10)
    menu = (await chat.say(SARA, "/rewards"))[0]
    before = len(chat.standin.messages(SARA.id))
    await chat.press_raw(SARA, menu, VoucherShow(voucher=emmas.id).pack())
    assert "این کوپن مال شما نیست" in chat.last_callback_answer().text
    assert len(chat.standin.messages(SARA.id)) == before  # no QR of Emma's voucher reached Sara


async def test_forged_and_stale_buttons_are_refused_and_change_nothing(chat: Chat, app: App, clock: FakeClock) -> None:
    await app.prepare_database()
    emma = await join(chat, app, EMMA, points=130)  # 150 points
    platinum_only = await add_reward(app, name={"en": "Jacket"}, cost=10, min_tier=2)
    paused = await add_reward(app, name={"en": "Paused"}, cost=10, active=False)
    catalog = with_buttons(await chat.say(EMMA, "/rewards"))
    entries_before = await ledger_count(app)

    cases = {
        RewardPick(reward=3).pack(): "Not enough points",  # 10% off costs 300: no button was shown for it
        RewardPick(reward=platinum_only.id).pack(): "for Platinum members and above",
        RewardPick(reward=paused.id).pack(): "not on offer any more",
        RewardPick(reward=999_999).pack(): "not on offer any more",
        RewardConfirm(token="forged-token").pack(): "no longer valid",
        "rwp:abc": "no longer valid",
        "rwc:": "no longer valid",
    }
    for data, answer in cases.items():
        await chat.press_raw(EMMA, catalog, data)
        assert answer in chat.last_callback_answer().text, (data, chat.last_callback_answer().text)

    # An old menu: the owner pauses coffee after Emma opened the confirmation.
    await chat.press(EMMA, catalog, button(chat, catalog, "Free coffee"))
    prompt = latest(chat, EMMA)
    token = _token(chat, prompt)
    async with app.ctx.uow() as uow:
        coffee = next(r for r in await uow.rewards.all() if r.seed_id == "coffee")
        await uow.rewards.update(coffee.id, active=False)
        await uow.commit()
    await chat.press(EMMA, prompt, RewardConfirm(token=token).pack())
    assert "not on offer any more" in chat.last_callback_answer().text
    async with app.ctx.uow() as uow:
        await uow.rewards.update(coffee.id, active=True, cost=140)
        await uow.commit()
    await chat.press(EMMA, prompt, RewardConfirm(token=token).pack())
    assert "cost of this reward changed to 140 points" in chat.last_callback_answer().text

    # A confirmation left open too long.
    catalog = with_buttons(await chat.say(EMMA, "/rewards"))
    await chat.press(EMMA, catalog, button(chat, catalog, "Free pastry"))
    stale = latest(chat, EMMA)
    clock.advance(minutes=16)
    await chat.press(EMMA, stale, RewardConfirm(token=_token(chat, stale)).pack())
    assert "timed out" in chat.last_callback_answer().text

    # Someone else's confirmation token.
    await join(chat, app, LAYLA, points=500)
    await chat.say(LAYLA, "/rewards")
    await chat.press_raw(LAYLA, latest(chat, LAYLA), RewardConfirm(token=token).pack())
    assert "هذا الزر لم يعد صالحًا" in chat.last_callback_answer().text

    assert (await member_of(app, EMMA)).balance == 150
    assert await ledger_count(app) == entries_before + 2  # only Layla joining and buying
    assert await vouchers_of(app, emma.id) == []


async def test_a_confirmation_used_twice_spends_once(chat: Chat, app: App) -> None:
    await app.prepare_database()
    emma = await join(chat, app, EMMA, points=400)  # 420 points: enough for two coffees
    catalog = with_buttons(await chat.say(EMMA, "/rewards"))
    await chat.press(EMMA, catalog, button(chat, catalog, "Free coffee"))
    prompt = latest(chat, EMMA)
    data = RewardConfirm(token=_token(chat, prompt)).pack()
    await chat.press(EMMA, prompt, data)
    await chat.press_raw(EMMA, prompt, data)  # the same button again (a double tap, or a replayed update)
    assert "already confirmed" in chat.last_callback_answer().text
    assert (await member_of(app, EMMA)).balance == 270
    assert len(await vouchers_of(app, emma.id)) == 1
    async with app.ctx.uow() as uow:
        used = await uow.session.scalar(select(func.count()).select_from(ActionToken).where(ActionToken.used_at.is_not(None)))
        assert used == 1


async def test_non_members_get_the_join_pointer(chat: Chat, app: App) -> None:
    await app.prepare_database()
    assert "Send /start to join" in await chat.reply_text(EMMA, "/rewards")
    assert "Send /start to join" in await chat.reply_text(EMMA, "/history")


async def test_redeem_refuses_with_the_reason(chat: Chat, app: App, clock: FakeClock) -> None:
    await app.prepare_database()
    await join(chat, app, SARA, points=300)
    voucher_message = await redeem_in_two_taps(chat, SARA, "قهوه رایگان")
    [voucher] = await vouchers_of(app, (await member_of(app, SARA)).id)
    code = voucher.code
    prefix = code.split("-")[0]
    foreign_prefix = "ZZ" if prefix != "ZZ" else "YY"
    typo = code[:-1] + ("2" if code[-1] != "2" else "3")
    unknown = new_voucher_code(prefix)
    cases = {
        "/redeem": "Usage: /redeem <voucher>",
        f"/redeem {typo}": "is not a voucher code",
        f"/redeem {unknown}": "There is no voucher",
        f"/redeem {new_voucher_code(foreign_prefix)}": "issued by another shop",
        "/redeem " + "x" * 4000: "Usage: /redeem",
    }
    for command, expected in cases.items():
        assert expected in await chat.reply_text(OWNER, command), command
    assert voucher.status == "active" and voucher_message.kind == "photo"

    clock.advance(days=31)  # the voucher's 30 days are over
    assert "expired: it was valid until" in await chat.reply_text(OWNER, f"/redeem {code}")
    async with app.ctx.uow() as uow:
        assert (await uow.vouchers.by_code(code)).status == "active"  # the expiry job decides the refund


async def test_redeem_is_for_staff_and_a_redelivered_redeem_is_not_a_second_use(chat: Chat, app: App) -> None:
    await app.prepare_database()
    await join(chat, app, EMMA, points=300)
    await redeem_in_two_taps(chat, EMMA, "Free coffee")
    [voucher] = await vouchers_of(app, (await member_of(app, EMMA)).id)
    assert await chat.reply_text(EMMA, f"/redeem {voucher.code}") == (
        "I don't know that command. Send /help to see what I can do."
    )
    async with app.ctx.uow() as uow:
        await uow.staff.add(CASHIER.id, added_by=OWNER.id, now=app.ctx.now())
        await uow.commit()
    assert "✅" in await chat.reply_text(CASHIER, f"/redeem {voucher.code}")
    again = await chat.redeliver_last(CASHIER.id)
    assert "✅" in again[0].text  # the same message handled twice: the same answer, one use
    async with app.ctx.uow() as uow:
        row = await uow.session.scalar(select(Voucher).where(Voucher.id == voucher.id))
        assert row.status == "used" and row.validated_by == CASHIER.id
        audit = [a for a in await uow.audit.recent() if a.action == "voucher_redeem"]
        assert len(audit) == 1


async def test_the_balance_card_is_a_qr_photo_with_expiry_and_campaign(chat: Chat, app: App, clock: FakeClock) -> None:
    await app.prepare_database()
    sara = await join(chat, app, SARA, points=100)
    card = (await chat.say(SARA, "/balance"))[-1]
    assert card.kind == "photo" and card.photo.startswith(b"\x89PNG") and sara.code in card.text
    assert "منقضی" not in card.text and "کمپین" not in card.text
    await chat.say(OWNER, "/campaign 2 48h")
    clock.advance(days=340)  # the 120 points expire in 25 days
    card = (await chat.say(SARA, "/balance"))[-1]
    assert "۱۲۰ امتیاز ظرف ۳۰ روز آینده منقضی می‌شود" in card.text
    assert "کمپین" not in card.text  # the 48 hours are long over
    await chat.say(OWNER, "/campaign ۳ ۲d")
    card = (await chat.say(SARA, "/balance"))[-1]
    assert "کمپین: خریدها ×۳ امتیاز می‌گیرند، تا" in card.text


async def test_history_pages_with_buttons(chat: Chat, app: App) -> None:
    await app.prepare_database()
    emma = await join(chat, app, EMMA)
    for i in range(1, 18):
        await chat.say(OWNER, f"/award {emma.code} {i}")
    first = (await chat.say(EMMA, "/history"))[-1]
    assert "page 1" in first.text and "+17" in first.text and "+10" in first.text and "+9" not in first.text
    assert [label for label, _ in chat.standin.buttons(first)] == ["🔽 Older"]
    await chat.press(EMMA, first, button(chat, first, "Older"))
    second = latest(chat, EMMA)
    assert second.message_id == first.message_id and "page 2" in second.text
    assert "+9" in second.text and "+2" in second.text and "+17" not in second.text
    assert [label for label, _ in chat.standin.buttons(second)] == ["🔼 Newer", "🔽 Older"]
    await chat.press(EMMA, second, button(chat, second, "Older"))
    third = latest(chat, EMMA)
    assert "page 3" in third.text and "+1" in third.text and "Welcome bonus" in third.text
    assert [label for label, _ in chat.standin.buttons(third)] == ["🔼 Newer"]
    await chat.press(EMMA, third, button(chat, third, "Newer"))
    assert "page 2" in latest(chat, EMMA).text
    # Forged pages only ever show Emma's own entries.
    await chat.press_raw(EMMA, third, "hst:1:999999:5")
    assert "Emma" not in latest(chat, EMMA).text and "+17" in latest(chat, EMMA).text


def test_callback_data_fits_telegram_at_the_largest_values() -> None:
    from bot.telegram.routers.history import HistoryPageData
    from bot.telegram.routers.rewards_admin import Admin

    big = 2**62
    packed = [
        RewardPick(reward=big).pack(),
        RewardConfirm(token="A" * 12).pack(),
        VoucherShow(voucher=big).pack(),
        HistoryPageData(older=True, pivot=big, page=1_000_000).pack(),
        Admin(act="resume", rid=big, arg="available_days").pack(),
        Admin(act="save", arg="A" * 12).pack(),
        Admin(act="kind", arg="k" * 32).pack(),
        Admin(act="lang", rid=big, arg="description.fa").pack(),
    ]
    assert all(len(data.encode()) <= 64 for data in packed), [(d, len(d.encode())) for d in packed]
    assert timedelta(minutes=15)  # OFFER_TTL documented in the forged-buttons test above


async def test_mydata_includes_vouchers_and_tier_changes(chat: Chat, app: App) -> None:
    import json

    await app.prepare_database()
    await join(chat, app, EMMA, points=480)  # 500 earned: Gold
    await redeem_in_two_taps(chat, EMMA, "Free pastry")
    export = (await chat.say(EMMA, "/mydata"))[-1]
    data = json.loads(export.document.decode("utf-8"))  # type: ignore[union-attr]
    [voucher] = data["vouchers"]
    assert voucher["reward"]["en"] == "Free pastry" and voucher["status"] == "active" and voucher["points"] == 100
    assert [(t["reason"], t["from_tier"], t["to_tier"]) for t in data["tier_changes"]] == [("promotion", 0, 1)]
