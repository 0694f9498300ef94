"""A card worth showing (issue 12 item 4), through the real dispatcher and the
Bot API stand-in: the branded /balance card (uploaded once per face, by
file_id after), reward photos from /rewards_admin shown in /rewards, and a
broadcast carrying one photo, with the owner told how long it takes."""
from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import select

from bot.app import App
from bot.domain.cards import METAL_COLOURS, CardFace, tier_colour
from bot.domain.send_time import send_time
from bot.telegram.card import BAND, HEIGHT, WIDTH, drawable, render_card
from bot.telegram.render import Fmt
from bot.telegram.routers.broadcast import duration_line
from bot.telegram.routers.rewards import PHOTO_CARDS
from standin import BotAPIStandIn, BotMessage, UploadedFile
from storage.models import AuditEntry, PhotoFile
from tests.handlers.rewards_support import add_reward, button, join, latest, member_of, reward_by_name, with_buttons
from tests.handlers.test_broadcast_flow import join as join_with_offers
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat

BAND_POINT = (20, (BAND[1] + BAND[3]) // 2)  # left edge of the tier band: no text there


def photo_sends(standin: BotAPIStandIn, chat_id: int) -> list[dict[str, Any]]:
    return [p for p in standin.calls_to("sendPhoto") if int(p["chat_id"]) == chat_id]


def upload_of(params: dict[str, Any]) -> bytes | None:
    """The uploaded PNG of a sendPhoto call; None when it named a file_id."""
    photo = params["photo"]
    if isinstance(photo, str) and photo.startswith("attach://"):
        photo = params[photo.removeprefix("attach://")]
    return photo.data if isinstance(photo, UploadedFile) else None


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def band_colour(png: bytes) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixel = image.getpixel(BAND_POINT)
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def sent_photo_id(chat: Chat) -> str:
    """The file_id of the picture the user just sent."""
    assert chat.last_update is not None
    return str(chat.last_update["message"]["photo"][-1]["file_id"])


# -- the /balance card -----------------------------------------------------------------------


async def test_the_card_is_a_png_uploaded_once_per_face_and_redrawn_for_a_new_tier(
    chat: Chat, app: App, standin: BotAPIStandIn
) -> None:
    emma = await join(chat, app, EMMA)
    first = (await chat.say(EMMA, "/balance"))[-1]
    png = upload_of(photo_sends(standin, EMMA.id)[-1])
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    assert band_colour(png) == rgb(METAL_COLOURS["silver"])  # the default program's first tier
    assert "Balance: <b>20 points</b>" in first.raw_text  # the numbers are in the caption

    await chat.reply_text(OWNER, f"/award {emma.code} 100")  # points change, the tier does not
    again = (await chat.say(EMMA, "/balance"))[-1]
    sends = photo_sends(standin, EMMA.id)
    assert len(sends) == 2 and sends[1]["photo"] == first.file.file_id  # type: ignore[union-attr]
    assert "120 points" in again.text and again.photo == png

    await chat.reply_text(OWNER, f"/award {emma.code} 600")  # Gold
    assert (await member_of(app, EMMA)).tier == 1
    gold = (await chat.say(EMMA, "/balance"))[-1]
    redrawn = upload_of(photo_sends(standin, EMMA.id)[-1])
    assert redrawn is not None and redrawn != png  # a new face: drawn and uploaded again
    assert band_colour(redrawn) == rgb(METAL_COLOURS["gold"]) != band_colour(png)
    await chat.say(EMMA, "/balance")
    assert photo_sends(standin, EMMA.id)[-1]["photo"] == gold.file.file_id  # type: ignore[union-attr]


async def test_each_member_gets_a_card_in_their_language(chat: Chat, app: App, standin: BotAPIStandIn) -> None:
    for person in (LAYLA, SARA):
        await join(chat, app, person)
        await chat.say(person, "/balance")
    layla, sara = (upload_of(photo_sends(standin, p.id)[-1]) for p in (LAYLA, SARA))
    assert layla is not None and sara is not None and layla != sara
    assert Image.open(io.BytesIO(layla)).size == (WIDTH, HEIGHT)
    async with app.ctx.uow(readonly=True) as uow:
        kinds = list(await uow.session.scalars(select(PhotoFile.kind)))
    assert kinds == ["card", "card"]


def test_different_tiers_give_different_pixels_at_the_tier_band() -> None:
    base = CardFace("ar", "مقهى وفا", "ليلى", "فضي", tier_colour(0, "Silver"), "W7K2QF", "W7K2QF")
    colours = {band_colour(render_card(CardFace(**{**base.__dict__, "tier": name, "colour": tier_colour(i, None)})))
               for i, name in enumerate(["أ", "ب", "ج", "د"])}
    assert len(colours) == 4
    assert render_card(base) == render_card(CardFace(**base.__dict__))  # the same face, the same bytes


def test_what_no_font_here_draws_is_left_out() -> None:
    assert drawable("Emma 🌹✨  W.") == "Emma W."
    assert drawable("کافه\u200cی ما") == "کافه\u200cی ما"  # the Persian half-space stays


# -- reward photos ----------------------------------------------------------------------------


async def open_reward_card(chat: Chat, name: str) -> BotMessage:
    catalog = with_buttons(await chat.say(OWNER, "/rewards_admin"))
    await chat.press(OWNER, catalog, button(chat, catalog, name))
    return latest(chat, OWNER)


async def test_the_owner_adds_a_reward_photo_and_members_see_it_in_rewards(
    chat: Chat, app: App, standin: BotAPIStandIn
) -> None:
    await add_reward(app, name={"en": "Mug"}, cost=100)
    await add_reward(app, name={"en": "Cake"}, cost=150)
    await join(chat, app, EMMA, points=200)
    card = await open_reward_card(chat, "Mug")
    asked = await chat.press(OWNER, card, button(chat, card, "Add a photo"))
    assert "Send the photo for Mug" in asked[-1].text
    assert "That is not a photo" in await chat.reply_text(OWNER, "here it comes")
    assert (await reward_by_name(app, "Mug")).photo is None  # bad input changed nothing
    saved = await chat.send_photo(OWNER)
    mug = await reward_by_name(app, "Mug")
    assert mug.photo == sent_photo_id(chat)  # Telegram's largest size, kept by file_id
    assert "✅ Saved." in saved[-1].text and "It has a photo" in saved[-1].text
    assert any("Change the photo" in label for label, _data in standin.buttons(saved[-1]))
    async with app.ctx.uow(readonly=True) as uow:
        assert await uow.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "reward_photo"))

    shown = await chat.say(EMMA, "/rewards")
    photos = [m for m in shown if m.kind == "photo"]
    assert len(photos) == 1 and photos[0].file.file_id == mug.photo  # type: ignore[union-attr]
    assert "Mug" in photos[0].text and "100 points" in photos[0].text and "ready to redeem" in photos[0].text
    assert shown[-1].kind == "text" and "🖼 Mug" in shown[-1].text and "🖼 Cake" not in shown[-1].text
    assert photo_sends(standin, EMMA.id)[-1]["photo"] == mug.photo  # by file_id: nothing uploaded

    offer = await chat.press(EMMA, photos[0], button(chat, photos[0], "Mug"))
    assert offer[-1].kind == "photo" and "Redeem it now?" in offer[-1].text
    done = await chat.press(EMMA, offer[-1], button(chat, offer[-1], "Yes, redeem"))
    assert any("Voucher: Mug" in m.text for m in done)
    assert (await member_of(app, EMMA)).balance == 120

    card = await open_reward_card(chat, "Mug")
    await chat.press(OWNER, card, button(chat, card, "Remove the photo"))
    assert (await reward_by_name(app, "Mug")).photo is None
    assert all(m.kind == "text" for m in await chat.say(EMMA, "/rewards"))


async def test_many_photo_rewards_show_a_few_photos_and_every_one_on_tap(chat: Chat, app: App) -> None:
    await chat.send_photo(OWNER)  # a picture Telegram has, to name by file_id
    photo = sent_photo_id(chat)
    for i in range(PHOTO_CARDS + 2):
        await add_reward(app, name={"en": f"Prize {i}"}, cost=100 + i, photo=photo)
    await add_reward(app, name={"en": "Big prize"}, cost=5000, photo=photo)  # unaffordable
    await join(chat, app, EMMA, points=200)
    shown = await chat.say(EMMA, "/rewards")
    photos = [m for m in shown if m.kind == "photo"]
    assert [m.text.splitlines()[0] for m in photos] == [f"🎁 Prize {i} — {100 + i} points" for i in range(PHOTO_CARDS)]
    catalog = shown[-1]
    assert catalog.text.count("🖼") == PHOTO_CARDS + 3  # every photo reward is marked in the list
    offer = await chat.press(EMMA, catalog, button(chat, catalog, f"Prize {PHOTO_CARDS + 1}"))
    assert offer[-1].kind == "photo" and f"Prize {PHOTO_CARDS + 1}" in offer[-1].text


# -- broadcasts with a photo ------------------------------------------------------------------------


async def start_broadcast(chat: Chat) -> None:
    for person in (EMMA, SARA, LAYLA):
        await join_with_offers(chat, person)
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await chat.press(OWNER, menu, button(chat, menu, "Everyone"))
    summary = latest(chat, OWNER)
    await chat.press(OWNER, summary, button(chat, summary, "One text for everyone"))
    assert "one photo with the message as its caption" in latest(chat, OWNER).text


async def test_a_broadcast_with_a_photo_reaches_every_member_as_send_photo(
    chat: Chat, app: App, standin: BotAPIStandIn
) -> None:
    await start_broadcast(chat)
    preview = await chat.send_photo(OWNER, "Fresh cakes today, {first_name}!")
    photo = sent_photo_id(chat)
    shown = [m for m in preview if m.kind == "photo"]
    assert len(shown) == 1 and shown[0].text.startswith("Fresh cakes today, Omar!")
    assert shown[0].file.file_id == photo  # type: ignore[union-attr]
    confirm = preview[-1]
    assert "⏱ Sending to 3 members takes less than a minute." in confirm.text
    await chat.press(OWNER, confirm, button(chat, confirm, "Send now"))
    await chat.deliver_outbox()
    for person, greeting in ((EMMA, "Fresh cakes today, Emma!"), (SARA, "Fresh cakes today, سارا!"),
                             (LAYLA, "Fresh cakes today, ليلى!")):
        got = [m for m in standin.messages(person.id) if m.kind == "photo" and greeting in m.text]
        assert len(got) == 1 and got[0].file.file_id == photo  # type: ignore[union-attr]
        sent = photo_sends(standin, person.id)[-1]
        assert sent["photo"] == photo  # by file_id, never uploaded per member
        assert str(sent.get("allow_paid_broadcast")).lower() == "true"  # the tests run with PAID_BROADCAST=1
    assert "Delivered: 3" in latest(chat, OWNER).text


async def test_a_photo_alone_asks_for_the_text_and_captions_are_kept_short(
    chat: Chat, app: App, standin: BotAPIStandIn
) -> None:
    await start_broadcast(chat)
    sticker = await chat._collect(OWNER.id, lambda: standin.send_sticker(OWNER.id))
    assert "Please send the message as text, or one photo" in sticker[-1].text
    added = await chat.send_photo(OWNER)
    assert "The photo is added" in added[-1].text and "Send the message for everyone" in added[-1].text
    too_long = await chat.reply_text(OWNER, "x" * 1000)
    assert "too long" in too_long and "904" in too_long  # a caption's 1024, less room for the opt-out line
    preview = await chat.say(OWNER, "Weekend offer!")
    assert [m.kind for m in preview if "Weekend offer!" in m.text] == ["photo"]
    await chat.press(OWNER, preview[-1], button(chat, preview[-1], "Send now"))
    await chat.deliver_outbox()
    assert [m.kind for m in standin.messages(EMMA.id) if "Weekend offer!" in m.text] == ["photo"]


def test_the_time_estimate_speaks_the_owners_language_and_digits(app: App) -> None:
    estimate = send_time(12_000, 50, True)
    expected = {
        "en": "⏱ Sending to 12,000 members takes about 4 minutes.",
        "fa": "⏱ ارسال به ۱۲٬۰۰۰ عضو حدود ۴ دقیقه طول می‌کشد.",
        "ar": "⏱ يستغرق الإرسال إلى ١٢٬٠٠٠ عضو نحو ٤ دقائق.",
    }
    for lang, text in expected.items():
        with app.i18n.context(), app.i18n.use_locale(lang):
            assert duration_line(estimate, 12_000, Fmt(lang, app.ctx.program.display, app.ctx.zone)) == text
    with app.i18n.context(), app.i18n.use_locale("ar"):
        fmt = Fmt("ar", app.ctx.program.display, app.ctx.zone)
        assert duration_line(send_time(11, 25, False), 11, fmt) == "⏱ يستغرق الإرسال إلى ١١ عضوًا أقل من دقيقة."
        assert duration_line(send_time(500_000, 25, False), 500_000, fmt).endswith("نحو ٦ ساعات.")
