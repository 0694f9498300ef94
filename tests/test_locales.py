"""Every string the code can show exists in ar, fa and en, correctly (SPEC §6)."""
from __future__ import annotations

import re

import pytest

from bot.app import App
from bot.catalogs import PLURAL_FORMS, catalog_files, problems, read
from bot.i18n import LANGUAGES
from bot.telegram import reward_text
from bot.telegram.render import Fmt

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
PERSIAN_ONLY = set("یکپچژگ")
ARABIC_ONLY = set("يك")
TAG = re.compile(r"</?(?:b|i|u|s|code|pre|a|blockquote|tg-spoiler)\b[^>]*>")


def entries(lang: str) -> list:  # type: ignore[type-arg]
    return [m for path in catalog_files(lang) for m in read(path, lang) if m.id]


def test_catalogs_match_the_code() -> None:
    assert problems() == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_is_translated_with_matching_placeholders(lang: str) -> None:
    for message in entries(lang):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        assert not message.fuzzy, message.id
        assert all(forms), f"{lang}: untranslated {message.id!r}"
        allowed = set(PLACEHOLDER.findall(" ".join(ids)))
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) <= allowed, (lang, message.id, form)
            if not message.pluralizable:
                assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(ids[0])), (lang, form)
            assert TAG.findall(form) == TAG.findall(ids[-1]) or lang == "en", (lang, form)
        if lang != "en":
            assert not any(form in ids and re.search("[A-Za-z]{3}", form) for form in forms), (lang, form)


@pytest.mark.parametrize(("lang", "foreign"), [("fa", ARABIC_ONLY), ("ar", PERSIAN_ONLY)])
def test_persian_and_arabic_letters_are_not_mixed(lang: str, foreign: set[str]) -> None:
    for message in entries(lang):
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        for form in forms:
            assert not set(form) & foreign, (lang, form)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_headers_declare_the_plural_forms_we_write(lang: str) -> None:
    for path in catalog_files(lang):
        assert f"Plural-Forms: {PLURAL_FORMS[lang]}" in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize(
    ("count", "days", "points"),
    [
        (0, "٠ يوم", "٠ نقطة"),  # zero
        (1, "يوم واحد", "نقطة واحدة"),  # one
        (2, "يومين", "نقطتين"),  # two: the object/genitive dual most host sentences need
        (3, "٣ أيام", "٣ نقاط"),  # few: 3–10
        (11, "١١ يومًا", "١١ نقطة"),  # many: 11–99
        (100, "١٠٠ يوم", "١٠٠ نقطة"),  # other: 100–102
        (101, "١٠١ يوم", "١٠١ نقطة"),
    ],
)
def test_arabic_plurals_follow_the_cldr_order(app: App, count: int, days: str, points: str) -> None:
    """The standard header (many = 11–99 in slot 4, other = 100–102 in slot 5) and the forms agree."""
    with app.i18n.context(), app.i18n.use_locale("ar"):
        fmt = Fmt("ar")
        assert (reward_text.days(fmt, count), fmt.points(count)) == (days, points)
