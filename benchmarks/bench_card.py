"""How long drawing one /balance card takes (issue 12 item 4).

    python benchmarks/bench_card.py [--cards 200]

Draws `--cards` different cards (a new member name each, so the in-process
cache never answers) in Persian, Arabic and English, and prints the median,
p95 and worst milliseconds per card and the PNG size, plus whether Pillow
shaped the text with raqm. A card is drawn only when its face (shop, name,
tier, QR) is new: every later /balance sends Telegram's file_id instead.
Nothing is asserted.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.cards import CardFace, tier_colour
from bot.telegram.card import font_file, raqm, render_card

FACES = {
    "fa": ("کافه‌ی نارنج", "سارا محمدی", "طلایی"),
    "ar": ("مقهى الياسمين", "ليلى العلي", "فضي"),
    "en": ("Orange Café", "Emma Watson", "Gold"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=200)
    args = parser.parse_args()
    print(f"raqm layout: {raqm()}; font: {font_file()}")
    render_card(CardFace("en", "warm-up", "x", "y", "#000000", "W0", "W0"))  # fonts loaded once per process
    for lang, (shop, name, tier) in FACES.items():
        times, size = [], 0
        for i in range(args.cards):
            face = CardFace(lang, shop, f"{name} {i}", tier, tier_colour(i % 3, None),
                            f"https://t.me/wafa_bot?start=m-W{i:05d}", f"W{i:05d}")
            started = time.perf_counter()
            size = len(render_card(face))
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        print(f"{lang}: median {statistics.median(times):.1f} ms, p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, "
              f"worst {times[-1]:.1f} ms, PNG {size / 1024:.0f} KiB ({args.cards} cards)")


if __name__ == "__main__":
    main()
