"""Gettext catalogs straight from the `.po` files (SPEC §6).

Catalogs live in `locales/<lang>/LC_MESSAGES/*.po`, one file per feature
so that features can be translated (and reviewed) independently; all files
of a language are merged into one translation. They are compiled in memory
with Babel at start, so a fresh `pip install .` works without a build step.
"""
from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("ar", "fa", "en")
LANGUAGE_NAMES = {"ar": "العربية", "fa": "فارسی", "en": "English"}
RTL = frozenset({"ar", "fa"})


def locales_dir() -> Path:
    """`locales/` beside the `bot` package: the checkout root, or site-packages."""
    return Path(__file__).resolve().parent.parent / "locales"


def read_catalogs(lang: str, root: Path | None = None) -> Catalog:
    """All `.po` files of `lang` merged into one Babel catalog."""
    directory = (root or locales_dir()) / lang / "LC_MESSAGES"
    files = sorted(directory.glob("*.po"))
    if not files:
        raise FileNotFoundError(f"no catalogs for {lang!r} in {directory}")
    merged: Catalog | None = None
    for path in files:
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if message.id:
                merged[message.id] = message
    assert merged is not None
    return merged


@cache
def load_translations(root: Path | None = None) -> dict[str, gettext.GNUTranslations]:
    """One GNUTranslations per language, compiled in memory from the `.po` files."""
    translations: dict[str, gettext.GNUTranslations] = {}
    for lang in LANGUAGES:
        buffer = io.BytesIO()
        write_mo(buffer, read_catalogs(lang, root), use_fuzzy=False)
        buffer.seek(0)
        translations[lang] = gettext.GNUTranslations(buffer)
    return translations


def telegram_language(code: str | None, default: str) -> str:
    """Telegram's `language_code` (`fa`, `ar-EG`, `en_US`, `''`, None) → ar, fa or en."""
    base = (code or "").replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else default
