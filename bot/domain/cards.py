"""What the /balance picture shows, and when it is the same picture (issue 12 item 4).

The picture carries only what rarely changes: the shop's name (in the
member's language), the member's name, their tier (name and colour) and the
QR. Points, progress and expiring points change with every purchase, so they
travel in the caption. A `CardFace` is everything drawn; its `key` is the
cache key of the uploaded picture (Telegram's `file_id`), so a new upload
happens exactly when one of those fields changes, and never for points.

Tier colours come from the tier's position (the program has no colour key):
a tier whose English name says bronze, silver, gold, platinum or diamond gets
that metal's colour; any other tier gets the palette colour of its position,
from the first tier up (a two-tier program: blue, then gold).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

CARD_VERSION = 1  # bump when the layout changes: every card is drawn and uploaded again

# By position, from the first tier up; a program with more tiers starts again.
POSITION_COLOURS = ("#2f6fba", "#c9a227", "#6b4fa0", "#1f2a36", "#2e8b6e", "#b5473a")
METAL_COLOURS = {
    "bronze": "#a0643c",
    "silver": "#7d8792",
    "gold": "#c9a227",
    "platinum": "#5c6b7a",
    "diamond": "#2b6f9e",
}


def tier_colour(index: int, english_name: str | None = None) -> str:
    """The colour of the tier at `index` (0 = first), as #rrggbb."""
    name = (english_name or "").lower()
    for metal, colour in METAL_COLOURS.items():
        if metal in name:
            return colour
    return POSITION_COLOURS[max(0, index) % len(POSITION_COLOURS)]


@dataclass(frozen=True)
class CardFace:
    """Everything the /balance picture shows. Equal faces are the same picture."""

    lang: str  # shapes the text (Arabic and Persian differ in some letters and digits)
    shop: str  # the shop's name in the member's language
    member: str  # the member's name as Telegram gave it
    tier: str  # the tier's name in the member's language
    colour: str  # the tier's colour, #rrggbb
    qr: str  # what the QR encodes
    code: str  # the member code printed under the QR

    @property
    def key(self) -> str:
        """The picture's cache key: a digest of the face (and the layout version), never of the points."""
        raw = json.dumps({"v": CARD_VERSION, **asdict(self)}, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(f"card:{raw}".encode()).hexdigest()
