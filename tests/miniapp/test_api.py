"""The Mini App's API (SPEC §10): init data, every route, every refusal."""
from __future__ import annotations

from datetime import timedelta

import httpx
from aiogram.utils.web_app import safe_parse_webapp_init_data

from bot.app import App
from bot.http.initdata import InitDataError, validate
from tests.handlers.rewards_support import add_reward, join, member_of
from tests.miniapp.conftest import init_data, tma
from tests.support import CASHIER, EMMA, OWNER, SARA, TOKEN, Chat, FakeClock, Person, make_app

STRANGER = Person(1099, "Nima", "fa", "nima")


# -- init data ----------------------------------------------------------------------------
def test_init_data_is_checked_as_aiogram_checks_it(clock: FakeClock) -> None:
    data = init_data(SARA, clock())
    parsed = safe_parse_webapp_init_data(TOKEN, data)  # aiogram's implementation of Telegram's documented check
    assert parsed.user is not None and parsed.user.id == SARA.id
    assert validate(data, TOKEN, now=clock()).id == SARA.id
    tampered = data.replace("%D8%B3", "%D8%B4", 1)
    for bad, token in ((tampered, TOKEN), (data, "7000000002:another-bot")):
        try:
            validate(bad, token, now=clock())
        except InitDataError as exc:
            assert exc.code == "invalid_init_data"
        else:
            raise AssertionError("accepted")


async def test_missing_forged_stale_or_foreign_init_data_is_401_and_changes_nothing(
    app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    emma = await join(chat, app, EMMA)
    now = clock()
    good = init_data(OWNER, now)
    forged = good.replace("Omar", "Omer")
    attempts = {
        "none": {},
        "bearer": {"Authorization": "Bearer " + good},
        "empty": {"Authorization": "tma "},
        "forged": {"Authorization": "tma " + forged},
        "hash removed": {"Authorization": "tma " + good.split("&hash=")[0]},
        "other bot": tma(OWNER, now, token="7000000002:another-bot"),
        "stale": tma(OWNER, now - timedelta(hours=24, seconds=1)),
        "future": tma(OWNER, now + timedelta(hours=1)),
        "garbage": {"Authorization": "tma %%%&&&==="},
    }
    for name, headers in attempts.items():
        r = await http.post("/app/api/award", headers=headers,
                            json={"member": emma.code, "amount": "100", "key": "k-0123456789"})
        assert r.status_code == 401, (name, r.text)
        assert r.json()["error"]["code"] in {"unauthenticated", "invalid_init_data", "init_data_expired"}
        for path in ("/app/api/me", "/app/api/rewards", "/app/api/history", "/app/api/stats"):
            assert (await http.get(path, headers=headers)).status_code == 401, (name, path)
    assert (await http.get("/app/api/me", headers=tma(OWNER, now - timedelta(hours=23)))).status_code != 401
    assert (await member_of(app, EMMA)).balance == emma.balance == 20


async def test_a_stranger_is_told_to_join_in_their_language(app: App, http: httpx.AsyncClient, clock: FakeClock) -> None:
    r = await http.get("/app/api/me", headers=tma(STRANGER, clock()))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "not_a_member"
    assert "/start" in r.json()["error"]["message"] and "عضو" in r.json()["error"]["message"]
    for path in ("/app/api/rewards", "/app/api/history", "/app/api/invite"):
        assert (await http.get(path, headers=tma(STRANGER, clock()))).status_code == 403


# -- member screens ----------------------------------------------------------------------
async def test_the_card_in_persian_and_in_english(app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock) -> None:
    sara = await join(chat, app, SARA, 120)
    await join(chat, app, EMMA, 1379)
    fa = (await http.get("/app/api/me", headers=tma(SARA, clock()))).json()
    assert fa["code"] == sara.code and fa["balance"] == 140 and fa["language"] == "fa"
    assert fa["balance_text"] == "۱۴۰ امتیاز" and fa["dir"] == "rtl" and fa["lang"] == "fa"
    assert fa["tier"] and fa["progress_text"] and 0 <= fa["progress"] <= 1
    assert fa["qr"].startswith("data:image/svg+xml") and fa["role"] == "customer"
    assert fa["strings"]["rewards"] == "جایزه‌ها"
    en = (await http.get("/app/api/me", headers=tma(EMMA, clock()))).json()
    assert en["balance_text"] == "1,399 points" and en["dir"] == "ltr" and en["strings"]["rewards"] == "Rewards"


async def test_the_card_shows_campaign_and_expiring_points_like_the_chat(
    app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    await join(chat, app, EMMA, 100)
    await chat.say(OWNER, "/campaign 2 48h")
    card = (await http.get("/app/api/me", headers=tma(EMMA, clock()))).json()
    assert card["campaign"] and "×2" in card["campaign"]


async def test_redeem_with_the_one_time_token(app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock) -> None:
    mug = await add_reward(app, cost=100)
    car = await add_reward(app, cost=5000, name={"en": "Car", "ar": "سيارة", "fa": "ماشین"})
    await join(chat, app, SARA, 180)
    await join(chat, app, EMMA, 180)
    listing = (await http.get("/app/api/rewards", headers=tma(SARA, clock()))).json()
    assert listing["balance"] == 200
    by_id = {r["id"]: r for r in listing["rewards"]}
    assert by_id[mug.id]["affordable"] and by_id[mug.id]["token"]
    assert not by_id[car.id]["affordable"] and by_id[car.id]["token"] is None
    assert by_id[mug.id]["cost_text"] == "۱۰۰ امتیاز"
    token = by_id[mug.id]["token"]
    # Another member's token, and a token for another reward: refused, nothing changes.
    r = await http.post(f"/app/api/rewards/{mug.id}/redeem", headers=tma(EMMA, clock()), json={"token": token})
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_action"
    r = await http.post(f"/app/api/rewards/{car.id}/redeem", headers=tma(SARA, clock()), json={"token": token})
    assert r.status_code == 409
    assert (await member_of(app, SARA)).balance == 200 and (await member_of(app, EMMA)).balance == 200
    r = await http.post(f"/app/api/rewards/{mug.id}/redeem", headers=tma(SARA, clock()), json={"token": token})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["balance"] == 100 and body["voucher"]["code"] and body["voucher"]["qr"].startswith("data:image/svg")
    # A double tap: the same token again is refused as in the chat, and spends nothing.
    again = await http.post(f"/app/api/rewards/{mug.id}/redeem", headers=tma(SARA, clock()), json={"token": token})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_redeemed"
    assert "کوپن" in again.json()["error"]["message"] or again.json()["error"]["message"]
    assert (await member_of(app, SARA)).balance == 100
    listing = (await http.get("/app/api/rewards", headers=tma(SARA, clock()))).json()
    assert [v["code"] for v in listing["vouchers"]] == [body["voucher"]["code"]]
    # The voucher works at the counter, through the chat.
    reply = await chat.reply_text(OWNER, f"/redeem {body['voucher']['code']}")
    assert "is valid and is now marked as used" in reply


async def test_a_token_that_became_unaffordable_is_refused(
    app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    mug = await add_reward(app, cost=100)
    sara = await join(chat, app, SARA, 80)
    listing = (await http.get("/app/api/rewards", headers=tma(SARA, clock()))).json()
    token = next(r["token"] for r in listing["rewards"] if r["id"] == mug.id)
    await chat.say(OWNER, f"/adjust {sara.code} -50 correction")
    r = await http.post(f"/app/api/rewards/{mug.id}/redeem", headers=tma(SARA, clock()), json={"token": token})
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_points"
    assert "۱۰۰" in r.json()["error"]["message"]
    assert (await member_of(app, SARA)).balance == 50
    bad = await http.post(f"/app/api/rewards/{mug.id}/redeem", headers=tma(SARA, clock()), json={"nope": 1})
    assert bad.status_code == 422


async def test_history_is_paged_newest_first(app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock) -> None:
    sara = await join(chat, app, SARA)
    for amount in range(1, 11):
        await chat.say(OWNER, f"/award {sara.code} {amount}")
    first = (await http.get("/app/api/history", headers=tma(SARA, clock()))).json()
    assert [e["delta"] for e in first["entries"]] == [10, 9, 8, 7, 6, 5, 4, 3]
    assert first["entries"][0]["delta_text"] == "+۱۰" and first["newer"] is None and first["older"]
    second = (await http.get(f"/app/api/history?before={first['older']}", headers=tma(SARA, clock()))).json()
    assert [e["delta"] for e in second["entries"]] == [2, 1, 20] and second["older"] is None
    back = (await http.get(f"/app/api/history?after={second['newer']}", headers=tma(SARA, clock()))).json()
    assert back["entries"][0]["delta"] == 10
    # Someone else's entry ids show only this member's entries.
    await join(chat, app, EMMA)
    emma = (await http.get(f"/app/api/history?before={first['older']}", headers=tma(EMMA, clock()))).json()
    assert [e["delta"] for e in emma["entries"]] == [20]


async def test_invite_link_and_share(app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock) -> None:
    sara = await join(chat, app, SARA)
    body = (await http.get("/app/api/invite", headers=tma(SARA, clock()))).json()
    assert body["link"] == f"https://t.me/{chat.standin.username}?start=ref-{sara.code}"
    assert body["share_url"].startswith("https://t.me/share/url?url=") and body["text"]


async def test_member_typed_text_comes_back_as_text(app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock) -> None:
    tricky = Person(1077, "<img src=x onerror=alert(1)>&", "en", "tricky")
    member = await join(chat, app, tricky)
    await chat.say(OWNER, f"/adjust {member.code} +5 <b>bold</b> & co")
    card = (await http.get("/app/api/me", headers=tma(tricky, clock()))).json()
    assert card["first_name"] == "<img src=x onerror=alert(1)>&"
    page = (await http.get("/app/api/history", headers=tma(tricky, clock()))).json()
    assert "<b>bold</b> & co" in page["entries"][0]["label"]  # plain text; the page sets textContent


# -- staff screens -------------------------------------------------------------------------
async def test_customers_get_403_on_staff_routes(app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock) -> None:
    sara = await join(chat, app, SARA)
    emma = await join(chat, app, EMMA)
    for method, path, body in (
        ("POST", "/app/api/award", {"member": emma.code, "amount": "100", "key": "k-0123456789"}),
        ("POST", "/app/api/vouchers/KQ7-2F9XAMB/redeem", {}),
        ("GET", "/app/api/stats", None),
    ):
        r = await http.request(method, path, headers=tma(SARA, clock()), json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "staff_only", path
        assert r.json()["error"]["message"] == "این صفحه برای کارکنان فروشگاه است."
    assert (await member_of(app, EMMA)).balance == 20 and sara.balance == 20
    await chat.say(CASHIER, "/start")  # staff are people who opened the bot
    await chat.say(OWNER, f"/staff add {CASHIER.id}")
    r = await http.get("/app/api/stats", headers=tma(CASHIER, clock()))
    assert r.status_code == 403 and r.json()["error"]["code"] == "owner_only"


async def test_award_from_the_cashier_screen(app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock) -> None:
    emma = await join(chat, app, EMMA)
    await chat.say(CASHIER, "/start")  # staff are people who opened the bot
    await chat.say(OWNER, f"/staff add {CASHIER.id}")
    me = (await http.get("/app/api/me", headers=tma(CASHIER, clock()))).json()
    assert me["role"] == "staff" and me["dir"] == "rtl"
    link = f"https://t.me/{chat.standin.username}?start=m-{emma.code}"
    body = {"member": link, "amount": "۱۲۰", "key": "scan-0001-abcdef"}
    r = await http.post("/app/api/award", headers=tma(CASHIER, clock()), json=body)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["member"] == emma.code and first["points"] == 120 and first["balance"] == 140
    assert "۱۲۰" in first["message"]  # the cashier reads Persian
    again = await http.post("/app/api/award", headers=tma(CASHIER, clock()), json=body)
    assert again.status_code == 200 and {k: again.json()[k] for k in ("member", "points", "balance")} == {
        "member": emma.code, "points": 120, "balance": 140}
    assert (await member_of(app, EMMA)).balance == 140
    # The member is told, as with /award.
    await chat.deliver_outbox()
    assert any("120" in m.text for m in chat.standin.messages(EMMA.id)[-2:])
    # The bare code and a new key: a second purchase.
    r = await http.post("/app/api/award", headers=tma(OWNER, clock()),
                        json={"member": emma.code, "amount": "٣٠", "key": "typed-0002-abcdef"})
    assert r.status_code == 201 and r.json()["balance"] == 170


async def test_award_refusals_are_the_chats(app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock) -> None:
    emma = await join(chat, app, EMMA)
    cases = [
        ({"member": emma.code, "amount": "-5", "key": "bad-amount-0001"}, 422, "invalid_amount"),
        ({"member": emma.code, "amount": "abc", "key": "bad-amount-0002"}, 422, "invalid_amount"),
        ({"member": emma.code, "amount": "999999999999", "key": "too-large-0001"}, 422, "amount_too_large"),
        ({"member": "ZZZZZZ", "amount": "10", "key": "nobody-0001"}, 404, "member_not_found"),
        ({"member": emma.code, "amount": "10", "key": "short"}, 422, "invalid_field"),
        ({"member": emma.code, "amount": "10"}, 422, "invalid_field"),
    ]
    for body, status, code in cases:
        r = await http.post("/app/api/award", headers=tma(OWNER, clock()), json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (body, r.text)
    r = await http.post("/app/api/award", headers=tma(OWNER, clock()),
                        json={"member": emma.code, "amount": "abc", "key": "bad-amount-0003"})
    assert "is not a valid amount" in r.json()["error"]["message"]
    assert (await member_of(app, EMMA)).balance == 20


async def test_redeem_a_voucher_at_the_cashier_screen(app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock) -> None:
    mug = await add_reward(app, cost=100)
    await join(chat, app, SARA, 100)
    listing = (await http.get("/app/api/rewards", headers=tma(SARA, clock()))).json()
    token = next(r["token"] for r in listing["rewards"] if r["id"] == mug.id)
    code = (await http.post(f"/app/api/rewards/{mug.id}/redeem", headers=tma(SARA, clock()),
                            json={"token": token})).json()["voucher"]["code"]
    r = await http.post(f"/app/api/vouchers/{code}/redeem", headers=tma(OWNER, clock()), json={})
    assert r.status_code == 200 and r.json()["code"] == code and "marked as used" in r.json()["message"]
    r = await http.post(f"/app/api/vouchers/{code}/redeem", headers=tma(OWNER, clock()))
    assert r.status_code == 409 and r.json()["error"]["code"] == "voucher_used"
    wrong = code[:-1] + ("Y" if code[-1] == "X" else "X")  # never the real code by chance
    r = await http.post(f"/app/api/vouchers/{wrong}/redeem", headers=tma(OWNER, clock()))
    assert r.status_code == 404 and r.json()["error"]["code"].startswith("voucher_")
    reply = await chat.reply_text(OWNER, f"/redeem {code}")
    assert "already used" in reply


async def test_owner_stats(app: App, chat: Chat, http: httpx.AsyncClient, clock: FakeClock) -> None:
    await join(chat, app, SARA, 100)
    r = await http.get("/app/api/stats", headers=tma(OWNER, clock()))
    assert r.status_code == 200 and r.json()["chart"].startswith("data:image/png;base64,")
    assert any("Members: 1" in line for line in r.json()["lines"])
    assert (await http.get("/app/api/stats?days=abc", headers=tma(OWNER, clock()))).status_code == 422


# -- the page and the wiring ------------------------------------------------------------------
async def test_the_page_and_its_files(http: httpx.AsyncClient) -> None:
    page = await http.get("/app/")
    assert page.status_code == 200 and "telegram-web-app.js" in page.text and "/app/static/app.js" in page.text
    assert "script-src 'self' https://telegram.org" in page.headers["content-security-policy"]
    assert (await http.get("/app/static/app.js")).headers["content-type"].startswith("text/javascript")
    assert (await http.get("/app/static/app.css")).status_code == 200
    assert (await http.get("/app/static/../config.py")).status_code == 404
    assert (await http.get("/app", follow_redirects=False)).status_code == 308
    ui = (await http.get("/app/api/ui?lang=ar-EG")).json()
    assert ui["dir"] == "rtl" and ui["strings"]["outside"].startswith("هذه الصفحة")


async def test_public_url_sets_the_menu_button_and_the_open_card_button(db_url: str, clock: FakeClock) -> None:
    from standin import BotAPIStandIn

    for public_url in ("https://shop.example/wafa", None):
        standin = BotAPIStandIn()
        app = await make_app(db_url, standin, clock=clock, public_url=public_url)
        try:
            await app.publish_menus()
            chat = Chat(app, standin)
            await chat.say(EMMA, "/start")
            [card] = await chat.say(EMMA, "/balance")
            buttons = (card.reply_markup or {}).get("inline_keyboard", [])
            if public_url:
                assert standin.menu_buttons[""]["web_app"]["url"] == "https://shop.example/wafa/app/"
                assert buttons[0][0]["web_app"]["url"] == "https://shop.example/wafa/app/"
            else:
                assert standin.calls_to("setChatMenuButton") == [] and not buttons
        finally:
            await app.close()
