"""Earning actions through the real dispatcher, one verification kind at a time (SPEC §11):
the channel (getChatMember answered by the stand-in as member, left, or bot-not-admin),
check-in codes (typed, fixed in the program, made by the owner with a QR, and the deep
link), staff approval with buttons, and events from the shop's systems. Limits hold in
merchant time; bad input and redelivered updates change nothing."""
from __future__ import annotations

import asyncio

import pytest

from bot.app import App
from bot.domain.actions import ActionUnknown, EventConflict, WrongVerification
from bot.domain.errors import MemberNotFound
from bot.services import actions
from bot.services.actions import InvalidEventId
from bot.telegram.routers.earn import AskStaff, ChannelCheck, Decide
from storage.models import ActionClaim, ActionCode, LedgerEntry, OutboxMessage
from tests.handlers.earning_support import (
    CHANNEL,
    CHANNEL_ID,
    button_data,
    cafe,
    cafe_chat,
    count,
    member_of,
    texts,
)
from tests.support import CASHIER, EMMA, LAYLA, OWNER, SARA, Chat, FakeClock, Person

__all__ = ["cafe", "cafe_chat"]  # fixtures
REZA = Person(1004, "رضا", "fa", "reza_k")


async def balance(app: App, person: Person) -> int:
    return (await member_of(app, person)).balance


async def action_points(app: App) -> int:
    return await count(app, LedgerEntry, LedgerEntry.kind == "action")


# -- the channel ---------------------------------------------------------------------------


async def test_a_member_of_the_channel_gets_the_points_once(cafe_chat: Chat, cafe: App) -> None:
    cafe_chat.standin.channel(CHANNEL_ID, "Wafa Café", username=CHANNEL[1:])
    cafe_chat.standin.join_chat(CHANNEL_ID, EMMA.id)
    await cafe_chat.say(EMMA, "/start")
    listing = (await cafe_chat.say(EMMA, "/earn"))[-1]
    assert "Join our channel — +20 points · once · available now" in listing.text
    buttons = dict(cafe_chat.standin.buttons(listing))
    assert buttons[f"Open {CHANNEL}"] == "https://t.me/wafa_cafe"
    check = buttons["✅ I joined: check"]
    assert check == ChannelCheck(action="join").pack()
    thanks = await cafe_chat.press(EMMA, listing, check)
    assert "✅ Join our channel: +20 points. Your balance is 40 points." in texts(thanks)
    again = await cafe_chat.press(EMMA, listing, check)
    assert again == [] and "it counts once" in cafe_chat.last_callback_answer().text
    assert await balance(cafe, EMMA) == 40 and await action_points(cafe) == 1
    listing = (await cafe_chat.say(EMMA, "/earn"))[-1]
    assert "Join our channel — +20 points · once · ✅ done" in listing.text
    assert "✅ I joined: check" not in dict(cafe_chat.standin.buttons(listing))
    calls = cafe_chat.standin.calls_to("getChatMember")
    assert calls and calls[0]["chat_id"] == CHANNEL and int(calls[0]["user_id"]) == EMMA.id


async def test_someone_who_left_or_never_joined_gets_nothing(cafe_chat: Chat, cafe: App) -> None:
    cafe_chat.standin.channel(CHANNEL_ID, "Wafa Café", username=CHANNEL[1:])
    await cafe_chat.say(LAYLA, "/start")
    await cafe_chat.say(EMMA, "/start")
    listing = (await cafe_chat.say(LAYLA, "/earn"))[-1]
    await cafe_chat.press(LAYLA, listing, ChannelCheck(action="join").pack())
    answer = cafe_chat.last_callback_answer()
    assert answer.show_alert and CHANNEL in answer.text
    cafe_chat.standin.join_chat(CHANNEL_ID, EMMA.id)
    cafe_chat.standin.leave_chat(CHANNEL_ID, EMMA.id)
    listing = (await cafe_chat.say(EMMA, "/earn"))[-1]
    await cafe_chat.press(EMMA, listing, ChannelCheck(action="join").pack())
    assert "I can't see you in \u2068@wafa_cafe\u2069. Join the channel" in cafe_chat.last_callback_answer().text
    assert await action_points(cafe) == 0 and await count(cafe, ActionClaim) == 0


async def test_the_owner_is_told_when_the_bot_is_not_an_admin_of_the_channel(cafe_chat: Chat, cafe: App) -> None:
    cafe_chat.standin.channel(CHANNEL_ID, "Wafa Café", username=CHANNEL[1:], bot_is_admin=False)
    cafe_chat.standin.join_chat(CHANNEL_ID, EMMA.id)
    await cafe_chat.say(OWNER, "/start")
    await cafe_chat.say(EMMA, "/start")
    listing = (await cafe_chat.say(EMMA, "/earn"))[-1]
    for _ in range(2):
        await cafe_chat.press(EMMA, listing, ChannelCheck(action="join").pack())
        assert "I can't check the channel right now" in cafe_chat.last_callback_answer().text
    assert await action_points(cafe) == 0
    await cafe.check_channels()  # what `wafa run` does at start: same day, same notice
    assert await count(cafe, OutboxMessage, OutboxMessage.kind == "channel_check_unavailable") == 1
    await cafe_chat.deliver_outbox()
    warning = cafe_chat.standin.messages(OWNER.id)[-1].text
    assert "I can't check who joined \u2068@wafa_cafe\u2069" in warning and "administrator" in warning
    overview = await cafe_chat.reply_text(OWNER, "/actions")
    assert "⚠️ I am not an administrator of \u2068@wafa_cafe\u2069" in overview
    cafe_chat.standin.set_bot_admin(CHANNEL_ID, True)
    assert "✅ I can check who joined." in await cafe_chat.reply_text(OWNER, "/actions")
    await cafe_chat.press(EMMA, listing, ChannelCheck(action="join").pack())
    assert await balance(cafe, EMMA) == 40


async def test_a_channel_the_bot_was_never_added_to_cannot_be_checked(cafe_chat: Chat, cafe: App) -> None:
    await cafe_chat.say(EMMA, "/start")
    listing = (await cafe_chat.say(EMMA, "/earn"))[-1]
    await cafe_chat.press(EMMA, listing, ChannelCheck(action="join").pack())
    assert "I can't check the channel right now" in cafe_chat.last_callback_answer().text
    assert await count(cafe, OutboxMessage, OutboxMessage.kind == "channel_check_unavailable") == 1


# -- check-in codes ---------------------------------------------------------------------------


async def test_a_fixed_code_checks_in_once_a_merchant_day(cafe_chat: Chat, cafe: App, clock: FakeClock) -> None:
    await cafe_chat.say(SARA, "/start")
    await cafe_chat.say(EMMA, "/start")
    done = await cafe_chat.reply_text(EMMA, "/checkin tasting")
    assert "✅ Tasting evening: +30 points. Your balance is 50 points." in done
    again = await cafe_chat.reply_text(EMMA, "/checkin TASTING")
    assert "You already got the points for this. You can earn them again from March 11, 2026." in again
    persian = await cafe_chat.reply_text(SARA, "/checkin TASTING")
    assert "۳۰" in persian and await balance(cafe, SARA) == 50
    listing = await cafe_chat.reply_text(EMMA, "/earn")
    assert "Tasting evening — +30 points · once a day · ✅ done · again from March 11, 2026" in listing
    clock.advance(days=1)
    assert "+30 points" in await cafe_chat.reply_text(EMMA, "/checkin TASTING")
    assert await balance(cafe, EMMA) == 80 and await action_points(cafe) == 3


async def test_a_redelivered_checkin_answers_the_same_and_pays_once(cafe_chat: Chat, cafe: App) -> None:
    await cafe_chat.say(EMMA, "/start")
    first = await cafe_chat.reply_text(EMMA, "/checkin TASTING")
    again = texts(await cafe_chat.redeliver_last(EMMA.id))
    assert again == first
    assert await balance(cafe, EMMA) == 50 and await count(cafe, ActionClaim) == 1


async def test_bad_checkins_change_nothing(cafe_chat: Chat, cafe: App) -> None:
    stranger = Person(3003, "Zed", "en", "zed_x")
    assert "You are not a member yet" in await cafe_chat.reply_text(stranger, "/checkin TASTING")
    await cafe_chat.say(EMMA, "/start")
    assert "Send the code you got at the event: /checkin CODE" in await cafe_chat.reply_text(EMMA, "/checkin")
    assert "is not a check-in code I know" in await cafe_chat.reply_text(EMMA, "/checkin NOPE42")
    assert "is not a check-in code I know" in await cafe_chat.reply_text(EMMA, "/checkin " + "x" * 4000)
    assert "is not a check-in code I know" in await cafe_chat.reply_text(EMMA, "/checkin !!")
    assert await action_points(cafe) == 0 and await count(cafe, ActionClaim) == 0


async def test_the_owner_makes_a_code_with_a_qr_and_the_deep_link_joins_and_checks_in(
    cafe_chat: Chat, cafe: App, clock: FakeClock
) -> None:
    await cafe_chat.say(OWNER, "/start")
    overview = (await cafe_chat.say(OWNER, "/actions"))[-1]
    assert "Code in the program: \u2068TASTING\u2069" in overview.text.replace("<code>", "")
    fixed = await cafe_chat.press(OWNER, overview, button_data(cafe_chat, overview, "QR for TASTING"))
    assert fixed[-1].kind == "photo" and "It works as long as the program has it" in fixed[-1].text
    ask = await cafe_chat.press(OWNER, overview, button_data(cafe_chat, overview, "New code: Tasting evening"))
    made = await cafe_chat.press(OWNER, ask[-1], button_data(cafe_chat, ask[-1], "7 days"))
    photo = made[-1]
    assert photo.kind == "photo" and photo.photo is not None and photo.photo.startswith(b"\x89PNG")
    async with cafe.ctx.uow() as uow:
        [code] = await uow.actions.live_codes(now=cafe.ctx.now())
    assert code.code in photo.text and "Valid until: March 16, 2026" in photo.text
    assert f"/checkin {code.code}" in photo.text
    # Reza scans the QR: Telegram sends /start act-<code>; he joins and is checked in.
    joined = texts(await cafe_chat.say(REZA, f"/start act-{code.code}"))
    assert "۳۰" in joined and await balance(cafe, REZA) == 20 + 30
    # Emma, already a member, scans it too.
    await cafe_chat.say(EMMA, "/start")
    assert "+30 points" in await cafe_chat.reply_text(EMMA, f"/start act-{code.code.lower()}")
    clock.advance(days=7)  # 17 March: the code's last day was the 16th
    expired = await cafe_chat.reply_text(EMMA, f"/checkin {code.code}")
    assert "is no longer valid: its last day was March 16, 2026" in expired
    assert await action_points(cafe) == 2
    assert await count(cafe, ActionCode) == 1


async def test_a_customer_cannot_make_codes(cafe_chat: Chat, cafe: App) -> None:
    await cafe_chat.say(EMMA, "/start")
    assert "I don't know that command" in await cafe_chat.reply_text(EMMA, "/actions")
    assert await count(cafe, ActionCode) == 0


# -- staff approval ----------------------------------------------------------------------------


async def _with_cashier(app: App, chat: Chat) -> None:
    await chat.say(CASHIER, "/start")
    await chat.say(OWNER, "/start")
    async with app.ctx.uow() as uow:
        await uow.staff.add(CASHIER.id, added_by=OWNER.id, now=app.ctx.now())
        await uow.commit()


async def test_staff_approve_a_request_once_and_the_member_is_told(cafe_chat: Chat, cafe: App) -> None:
    await _with_cashier(cafe, cafe_chat)
    await cafe_chat.say(EMMA, "/start")
    listing = (await cafe_chat.say(EMMA, "/earn"))[-1]
    ask = button_data(cafe_chat, listing, "Ask staff: Write a review")
    assert ask == AskStaff(action="review").pack()
    assert "Staff will confirm Write a review shortly" in texts(await cafe_chat.press(EMMA, listing, ask))
    await cafe_chat.press(EMMA, listing, ask)
    assert "You have already asked" in cafe_chat.last_callback_answer().text
    assert "⏳ waiting for staff to confirm" in await cafe_chat.reply_text(EMMA, "/earn")
    await cafe_chat.deliver_outbox()
    to_cashier = cafe_chat.standin.messages(CASHIER.id)[-1]
    to_owner = cafe_chat.standin.messages(OWNER.id)[-1]
    emma = await member_of(cafe, EMMA)
    assert "Emma" in to_owner.text and emma.code in to_owner.text and "Write a review" in to_owner.text
    approve = button_data(cafe_chat, to_cashier, "✅")
    done = await cafe_chat.press(CASHIER, to_cashier, approve)
    edited = cafe_chat.standin.messages(CASHIER.id)[-1]
    assert edited.edited and not done and "✅ تأیید شد: نوشتن نظر برای Emma" in edited.text
    assert await balance(cafe, EMMA) == 45
    await cafe_chat.press(OWNER, to_owner, button_data(cafe_chat, to_owner, "✅"))
    assert "already approved" in cafe_chat.last_callback_answer().text
    await cafe_chat.press_raw(CASHIER, to_cashier, approve)  # a double tap that beat the edit
    assert "این درخواست قبلاً تأیید شده است" in cafe_chat.last_callback_answer().text
    assert await balance(cafe, EMMA) == 45 and await action_points(cafe) == 1
    await cafe_chat.deliver_outbox()
    assert "Staff confirmed Write a review: +25 points" in cafe_chat.standin.messages(EMMA.id)[-1].text
    old = listing
    listing = (await cafe_chat.say(EMMA, "/earn"))[-1]
    assert "Write a review — +25 points · once a week · ✅ done · again from" in listing.text
    await cafe_chat.press(EMMA, old, ask)  # an old button
    assert "You already got the points for this" in cafe_chat.last_callback_answer().text


async def test_a_declined_request_tells_the_member_and_may_be_asked_again(cafe_chat: Chat, cafe: App) -> None:
    await _with_cashier(cafe, cafe_chat)
    await cafe_chat.say(LAYLA, "/start")
    await cafe_chat.press(LAYLA, (await cafe_chat.say(LAYLA, "/earn"))[-1], AskStaff(action="review").pack())
    await cafe_chat.deliver_outbox()
    request = cafe_chat.standin.messages(OWNER.id)[-1]
    await cafe_chat.press(OWNER, request, button_data(cafe_chat, request, "✖️"))
    assert "Declined" in cafe_chat.standin.messages(OWNER.id)[-1].text
    await cafe_chat.deliver_outbox()
    assert "لم يتمكن الموظفون من تأكيد اكتب تقييمًا" in cafe_chat.standin.messages(LAYLA.id)[-1].text
    assert await balance(cafe, LAYLA) == 20
    await cafe_chat.press(LAYLA, (await cafe_chat.say(LAYLA, "/earn"))[-1], AskStaff(action="review").pack())
    assert await count(cafe, ActionClaim, ActionClaim.status == "pending") == 1


async def test_customers_cannot_press_approve_and_forged_claims_change_nothing(cafe_chat: Chat, cafe: App) -> None:
    await _with_cashier(cafe, cafe_chat)
    await cafe_chat.say(EMMA, "/start")
    listing = (await cafe_chat.say(EMMA, "/earn"))[-1]
    await cafe_chat.press(EMMA, listing, AskStaff(action="review").pack())
    async with cafe.ctx.uow() as uow:
        [claim] = (await uow.actions.for_member((await member_of(cafe, EMMA)).id))
    await cafe_chat.press_raw(EMMA, listing, Decide(claim=claim.id, approve=True).pack())  # her own approval
    cashier_message = cafe_chat.standin.messages(CASHIER.id)[-1]
    await cafe_chat.press_raw(CASHIER, cashier_message, Decide(claim=999999, approve=True).pack())  # no such request
    assert "این دکمه دیگر معتبر نیست" in cafe_chat.last_callback_answer().text  # Cyrus reads Persian
    await cafe_chat.press_raw(CASHIER, cashier_message, "edc:not-a-number:1")
    assert await balance(cafe, EMMA) == 20 and await count(cafe, ActionClaim, ActionClaim.status == "pending") == 1


# -- events from the shop's systems ----------------------------------------------------------------


async def test_an_api_event_pays_once_by_event_id_within_its_limit(cafe_chat: Chat, cafe: App) -> None:
    await cafe_chat.say(EMMA, "/start")
    await cafe_chat.say(LAYLA, "/start")
    emma = await member_of(cafe, EMMA)
    first = await actions.record_action_event(cafe.ctx, "order-1", emma.code, "app-order")
    assert (first.status, first.points, first.balance, first.duplicate) == ("credited", 10, 30, False)
    again = await actions.record_action_event(cafe.ctx, "order-1", f"@{EMMA.username}", "app-order")
    assert (again.status, again.points, again.balance, again.duplicate) == ("credited", 10, 30, True)
    second = await actions.record_action_event(cafe.ctx, "order-2", emma.code, "app-order")
    assert (second.status, second.points, second.balance) == ("over_limit", 0, 30)
    assert second.again is not None and second.again.astimezone(cafe.ctx.zone).day == 1
    replay = await actions.record_action_event(cafe.ctx, "order-2", emma.code, "app-order")
    assert (replay.status, replay.duplicate) == ("over_limit", True)
    await cafe_chat.deliver_outbox()
    assert "Order in our app: you earned 10 points. Your balance is 30 points." in cafe_chat.standin.messages(EMMA.id)[-1].text
    assert await count(cafe, OutboxMessage, OutboxMessage.kind == "action_credited") == 1


async def test_api_events_refuse_bad_input_and_change_nothing(cafe_chat: Chat, cafe: App) -> None:
    await cafe_chat.say(EMMA, "/start")
    await cafe_chat.say(LAYLA, "/start")
    emma = await member_of(cafe, EMMA)
    await actions.record_action_event(cafe.ctx, "e-1", emma.code, "app-order")
    layla = await member_of(cafe, LAYLA)
    with pytest.raises(EventConflict):
        await actions.record_action_event(cafe.ctx, "e-1", layla.code, "app-order")
    with pytest.raises(ActionUnknown):
        await actions.record_action_event(cafe.ctx, "e-2", emma.code, "teleport")
    with pytest.raises(WrongVerification):
        await actions.record_action_event(cafe.ctx, "e-3", emma.code, "join")  # the channel is checked, not told
    with pytest.raises(MemberNotFound):
        await actions.record_action_event(cafe.ctx, "e-4", "ZZZZZZ", "app-order")
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(InvalidEventId):
            await actions.record_action_event(cafe.ctx, bad, emma.code, "app-order")
    assert await balance(cafe, LAYLA) == 20 and await balance(cafe, EMMA) == 30
    assert await count(cafe, ActionClaim) == 1


async def test_simultaneous_events_pay_once(cafe_chat: Chat, cafe: App) -> None:
    await cafe_chat.say(EMMA, "/start")
    emma = await member_of(cafe, EMMA)
    same = [actions.record_action_event(cafe.ctx, "burst", emma.code, "app-order") for _ in range(8)]
    distinct = [actions.record_action_event(cafe.ctx, f"burst-{i}", emma.code, "app-order") for i in range(8)]
    results = await asyncio.gather(*same, *distinct)
    assert sum(r.status == "credited" and not r.duplicate for r in results) == 1
    assert await balance(cafe, EMMA) == 30 and await action_points(cafe) == 1


# -- /earn -----------------------------------------------------------------------------------------


async def test_earn_lists_every_way_to_earn_in_the_members_language(cafe_chat: Chat, cafe: App) -> None:
    await cafe_chat.say(SARA, "/start")
    await cafe_chat.say(OWNER, f"/stamp {(await member_of(cafe, SARA)).code}")
    listing = await cafe_chat.reply_text(SARA, "/earn")
    assert "کارت قهوه: ●○○ \u2068۱/۳\u2069" in listing
    for name in ("عضویت در کانال ما", "شب مزه‌کردن", "نوشتن نظر", "سفارش از برنامه"):
        assert name in listing
    assert "۲۰" in listing and "۱۰۰" in listing  # the channel's points, the referral bonus
