"""QR images for member cards and vouchers (segno draws the code, Pillow adds
the code in letters underneath, so a cashier can also read it aloud).

Images are cached by their text: a member's card is the same picture every
time, and drawing it is the most expensive part of `/balance`.
"""
from __future__ import annotations

import io
from functools import lru_cache

import segno
from PIL import Image, ImageDraw, ImageFont

INK = "#1b1b1f"
SCALE = 12
LABEL_HEIGHT = 80
MARGIN = 40


@lru_cache(maxsize=4096)
def qr_card(text: str) -> bytes:
    """A PNG: the QR code of `text` with `text` printed below it (Latin letters only)."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=SCALE, border=4, dark=INK)
    buffer.seek(0)
    code = Image.open(buffer).convert("RGB")
    font = ImageFont.load_default(size=40)
    measure = ImageDraw.Draw(code)
    left, top, right, bottom = measure.textbbox((0, 0), text, font=font)
    width = max(code.width, right - left + 2 * MARGIN)
    card = Image.new("RGB", (width, code.height + LABEL_HEIGHT), "white")
    card.paste(code, ((width - code.width) // 2, 0))
    ImageDraw.Draw(card).text(
        ((width - (right - left)) / 2 - left, code.height + (LABEL_HEIGHT - (bottom - top)) / 2 - top - 16),
        text, fill=INK, font=font,
    )
    out = io.BytesIO()
    card.save(out, format="PNG", optimize=True)
    return out.getvalue()
