"""The card's face and cache key, tier colours, the caption limit with a photo,
and the broadcast time estimate (issue 12 item 4)."""
from __future__ import annotations

import dataclasses

import pytest

from bot.domain.broadcasts import OWNER_CAPTION_LIMIT, MessageTooLong, check_text
from bot.domain.cards import METAL_COLOURS, POSITION_COLOURS, CardFace, tier_colour
from bot.domain.send_time import SendTime, effective_rate, send_time

FACE = CardFace(lang="fa", shop="کافه وفا", member="سارا", tier="نقره‌ای", colour="#7d8792", qr="W7K2QF", code="W7K2QF")


def test_metal_names_get_their_colour_and_other_tiers_their_position() -> None:
    assert tier_colour(0, "Silver") == METAL_COLOURS["silver"]
    assert tier_colour(0, "Rose Gold") == METAL_COLOURS["gold"]
    assert tier_colour(1, "Friends") == POSITION_COLOURS[1]
    assert tier_colour(0, None) != tier_colour(1, None)
    assert tier_colour(len(POSITION_COLOURS), "Regulars") == POSITION_COLOURS[0]  # more tiers: the palette again


@pytest.mark.parametrize("field", ["lang", "shop", "member", "tier", "colour", "qr", "code"])
def test_every_drawn_field_changes_the_cache_key(field: str) -> None:
    changed = dataclasses.replace(FACE, **{field: getattr(FACE, field) + "x"})
    assert changed.key != FACE.key
    assert len(changed.key) == 64 and dataclasses.replace(changed).key == changed.key  # a digest, stable


def test_the_face_has_no_numbers_to_change() -> None:
    assert {f.name for f in dataclasses.fields(CardFace)} == {"lang", "shop", "member", "tier", "colour", "qr", "code"}


def test_with_a_photo_the_text_must_fit_a_caption() -> None:
    text = "x" * (OWNER_CAPTION_LIMIT + 1)
    check_text(text, text)  # fine as a message
    with pytest.raises(MessageTooLong) as raised:
        check_text(text, text, photo=True)
    assert raised.value.details["limit"] == OWNER_CAPTION_LIMIT
    check_text("x" * OWNER_CAPTION_LIMIT, "x" * OWNER_CAPTION_LIMIT, photo=True)


def test_the_send_time_is_recipients_over_the_effective_rate() -> None:
    assert send_time(12_000, 50, True) == SendTime("minutes", 4)
    assert send_time(12_000, 25, False) == SendTime("minutes", 8)
    assert send_time(12_000, 1000, False) == SendTime("minutes", 7)  # no paid broadcasts: at most 30/s
    assert send_time(12_000, 1000, True) == SendTime("seconds", 12)
    assert send_time(3, 25, False) == SendTime("seconds", 1)
    assert send_time(0, 25, False) == SendTime("seconds", 0)
    assert send_time(500_000, 25, False) == SendTime("hours", 6)
    assert send_time(25 * 60 * 119, 25, False) == SendTime("minutes", 119)
    assert effective_rate(200, True) == 200 and effective_rate(200, False) == 30
