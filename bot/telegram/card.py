"""The /balance picture: a branded member card drawn with Pillow (issue 12 item 4).

    ┌──────────────────────────┐
    │        shop name         │  dark header
    │       member's name      │
    │▓▓▓▓▓▓▓▓ tier name ▓▓▓▓▓▓▓│  the tier band, in the tier's colour
    │        ┌────────┐        │
    │        │   QR   │        │
    │        └────────┘        │
    │         W7K2QF           │  the member code, for reading aloud
    └──────────────────────────┘

Text is shaped and ordered right to left by Pillow's raqm layout (libraqm is
in Pillow's wheels; it needs FriBiDi at run time, Debian's `libfribidi0`).
Without raqm, arabic-reshaper joins the letters and python-bidi orders them,
and Pillow's basic layout draws the result: the same picture, near enough.
Doing both would reverse the text twice. The font is DejaVu Sans Bold, which
has the Arabic and Persian letters: Debian's `fonts-dejavu-core` when
installed, else the copy that ships inside matplotlib (a dependency), else
Pillow's built-in font (Latin only; never an error). Characters no font here
draws (emoji) are left out of the picture; the caption still has them.

Every line is centred, so the layout needs no mirroring for right-to-left
text; names too long for the card are set smaller, then cut with an ellipsis.
"""
from __future__ import annotations

import io
import unicodedata
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont, features

from bot.domain.cards import CardFace

WIDTH, HEIGHT = 900, 1240
HEADER = (0, 0, WIDTH, 230)  # the shop's name on dark
NAME_Y = 300  # the member's name, centre line
BAND = (0, 370, WIDTH, 470)  # the tier band
QR_TOP, QR_SIZE = 520, 560  # the QR, centred, with its quiet zone
CODE_Y = 1150
MARGIN = 48
INK, PAPER, HEADER_FILL, WHITE = "#1b1f24", "#ffffff", "#1f2a36", "#ffffff"

FONT_FILES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),  # Debian fonts-dejavu-core
)
ZWNJ, ZWJ = "\u200c", "\u200d"
_DROPPED_CATEGORIES = {"So", "Cs", "Co", "Cn", "Sk"}


def raqm() -> bool:
    """True when Pillow shapes and orders complex scripts itself (libraqm with FriBiDi)."""
    return bool(features.check("raqm"))


@lru_cache(maxsize=1)
def font_file() -> Path | None:
    """The first DejaVu Sans Bold found: Debian's, else matplotlib's own copy, else None."""
    candidates = list(FONT_FILES)
    try:
        import matplotlib

        candidates.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf")
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        pass
    return next((path for path in candidates if path.is_file()), None)


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_file()
    if path is None:
        return ImageFont.load_default(size=size)
    engine = ImageFont.Layout.RAQM if raqm() else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(path), size=size, layout_engine=engine)


def drawable(text: str) -> str:
    """`text` without what DejaVu cannot draw (emoji, private use), spaces collapsed; ZWNJ kept."""
    kept = "".join(
        ch for ch in text
        if ch == ZWNJ or (ch != ZWJ and unicodedata.category(ch) not in _DROPPED_CATEGORIES and ch not in "\ufe0e\ufe0f")
    )
    return " ".join(kept.split())


def visual(text: str) -> str:
    """What to hand Pillow: logical order with raqm; joined and reordered letters without it."""
    if raqm() or not any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        return text
    import arabic_reshaper
    from bidi import get_display

    return str(get_display(arabic_reshaper.reshape(text)))


def _centred(draw: ImageDraw.ImageDraw, text: str, centre_y: int, size: int, fill: str, lang: str,
             *, min_size: int = 28) -> None:
    """`text` centred on the card at `centre_y`, as large as `size` allows within the margins."""
    text = visual(drawable(text))
    if not text:
        return
    options = {"language": lang} if raqm() and font_file() is not None else {}
    room = WIDTH - 2 * MARGIN
    while True:
        face = font(size)
        width = draw.textlength(text, font=face, **options)  # type: ignore[arg-type]  # language is raqm's
        if width <= room or size <= min_size:
            break
        size -= 4
    while width > room and len(text) > 1:  # still too long at the smallest size: cut it
        text = text[:-2] + "…"
        width = draw.textlength(text, font=face, **options)  # type: ignore[arg-type]
    draw.text((WIDTH / 2, centre_y), text, fill=fill, font=face, anchor="mm", **options)  # type: ignore[arg-type]


def _qr(text: str) -> Image.Image:
    matrix = segno.make(text, error="m", micro=False).matrix
    border = 4
    modules = len(matrix) + 2 * border
    code = Image.new("L", (modules, modules), 255)
    pixels = code.load()
    assert pixels is not None
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + border, y + border] = 0
    scale = max(1, QR_SIZE // modules)
    return code.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)


@lru_cache(maxsize=256)
def render_card(face: CardFace) -> bytes:
    """The card as PNG bytes, WIDTH × HEIGHT. The same face always gives the same bytes."""
    card = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(card)
    draw.rectangle(HEADER, fill=HEADER_FILL)
    _centred(draw, face.shop, (HEADER[1] + HEADER[3]) // 2, 64, WHITE, face.lang)
    _centred(draw, face.member, NAME_Y, 52, INK, face.lang)
    draw.rectangle(BAND, fill=face.colour)
    _centred(draw, face.tier, (BAND[1] + BAND[3]) // 2, 48, WHITE, face.lang)
    code = _qr(face.qr)
    card.paste(code, ((WIDTH - code.width) // 2, QR_TOP + (QR_SIZE - code.height) // 2))
    _centred(draw, " ".join(face.code), CODE_Y, 44, INK, "en")
    draw.rectangle((0, HEIGHT - 12, WIDTH, HEIGHT), fill=face.colour)
    out = io.BytesIO()
    card.save(out, format="PNG", compress_level=1)  # fast: a card is uploaded once, then sent by file_id
    return out.getvalue()
