"""QR images for member cards and vouchers (segno computes the code, Pillow draws
it and prints the code in letters underneath, so a cashier can also read it aloud).

Images are cached by their text: a member's card is the same picture every
time, and drawing it is the most expensive part of `/balance`.
"""
from __future__ import annotations

import io
from functools import lru_cache

import segno
from PIL import Image, ImageDraw, ImageFont

SCALE = 12  # pixels per module
BORDER = 4  # quiet zone, in modules
LABEL_HEIGHT = 80
MARGIN = 40


@lru_cache(maxsize=4096)
def qr_card(text: str, label: str | None = None) -> bytes:
    """A PNG: the QR code of `text` with `label` (default: `text`) printed below it (Latin letters only)."""
    matrix = segno.make(text, error="m", micro=False).matrix
    modules = len(matrix) + 2 * BORDER
    code = Image.new("L", (modules, modules), 255)
    pixels = code.load()
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + BORDER, y + BORDER] = 0  # type: ignore[index]
    code = code.resize((modules * SCALE, modules * SCALE), Image.Resampling.NEAREST)
    font = ImageFont.load_default(size=40)
    text = label if label is not None else text
    left, top, right, bottom = ImageDraw.Draw(code).textbbox((0, 0), text, font=font)
    width = int(max(code.width, right - left + 2 * MARGIN))
    card = Image.new("L", (width, code.height + LABEL_HEIGHT), 255)
    card.paste(code, ((width - code.width) // 2, 0))
    ImageDraw.Draw(card).text(
        ((width - (right - left)) / 2 - left, code.height + (LABEL_HEIGHT - (bottom - top)) / 2 - top - 16),
        text, fill=0, font=font,
    )
    out = io.BytesIO()
    card.save(out, format="PNG", compress_level=6)
    return out.getvalue()
