"""What an Arabic or Persian reader sees: digits with their own separators, currency names,
lists, dates with times, parentheses and buttons that survive right-to-left layout."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

import pytest

from bot.app import App
from bot.domain.program import Display
from bot.telegram.render import Fmt
from tests.support import CASHIER, LAYLA, OWNER, SARA, STAFF_ID, Chat, Person

# A Latin comma or period between Arabic-Indic or Persian digits reads as a zero: ١.٥ looks like ١٠٥.
LATIN_SEPARATOR = re.compile("[٠-٩۰-۹][,.][٠-٩۰-۹]")
ARABIC_OWNER = Person(OWNER.id, "عمر", "ar", "omar_owner")
PERSIAN_OWNER = Person(OWNER.id, "امید", "fa", "omid_owner")


@pytest.mark.parametrize(
    ("lang", "value", "shown"),
    [
        ("ar", 1379, "١٬٣٧٩"),
        ("ar", Decimal("1234.5"), "١٬٢٣٤٫٥"),
        ("ar", Decimal("1.25"), "١٫٢٥"),
        ("ar", Decimal("1.50"), "١٫٥"),
        ("ar", 251550, "٢٥١٬٥٥٠"),
        ("fa", 250000, "۲۵۰٬۰۰۰"),
        ("fa", Decimal("1.5"), "۱٫۵"),
        ("fa", Decimal("1234.5"), "۱٬۲۳۴٫۵"),
        ("en", 1379, "1,379"),
        ("en", Decimal("1234.5"), "1,234.5"),
    ],
)
def test_numbers_use_the_separators_of_their_digits(lang: str, value: int | Decimal, shown: str) -> None:
    assert Fmt(lang).num(value) == shown


def test_arabic_with_latin_digits_keeps_latin_separators() -> None:
    assert Fmt("ar", Display(arabic_digits="latin")).num(Decimal("1234.5")) == "1,234.5"


@pytest.mark.parametrize(
    ("lang", "currency", "shown"),
    [
        ("ar", "SAR", "١٬٢٣٤٫٥ ريال"),  # no "ر.س.", whose dot doubles a sentence's full stop
        ("ar", "AED", "١٬٢٣٤٫٥ درهم"),
        ("fa", "SAR", "۱٬۲۳۴٫۵ ریال سعودی"),  # no Latin "SAR" inside Persian
        ("fa", "IRT", "۱٬۲۳۴٫۵ تومان"),
        ("fa", "JPY", "۱٬۲۳۴٫۵ ین ژاپن"),  # not in the catalog: CLDR's Persian name
        ("ar", "ZZZ", "١٬٢٣٤٫٥ \u2068ZZZ\u2069"),  # no name anywhere: the code, isolated
        ("en", "SAR", "1,234.5 SAR"),
    ],
)
def test_money_names_its_currency_in_the_readers_language(app: App, lang: str, currency: str, shown: str) -> None:
    with app.i18n.context(), app.i18n.use_locale(lang):
        assert Fmt(lang).money(Decimal("1234.50"), currency) == shown


async def test_an_arabic_receipt_reads_right(chat: Chat, app: App) -> None:
    await chat.say(LAYLA, "/start")
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(LAYLA.id)
        assert member is not None
    reply = await chat.reply_text(ARABIC_OWNER, f"/award {member.code} 1234.50")
    assert "١٬٢٣٤ نقطة" in reply and "بقيمة ١٬٢٣٤٫٥ ريال." in reply
    await chat.deliver_outbox()
    notice = chat.standin.messages(LAYLA.id)[-2].text  # the receipt, before the tier-up it caused
    assert "حصلت على ١٬٢٣٤ نقطة مقابل مشترياتك بقيمة ١٬٢٣٤٫٥ ريال. أصبح رصيدك ١٬٢٥٤ نقطة." in notice
    for text in (reply, notice):
        assert not LATIN_SEPARATOR.search(text) and "ر.س" not in text and ".." not in text


async def test_the_arabic_dual_after_a_verb(chat: Chat, app: App) -> None:
    await chat.say(LAYLA, "/start")
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(LAYLA.id)
        assert member is not None
    await chat.say(ARABIC_OWNER, f"/award {member.code} 2")
    await chat.deliver_outbox()
    assert "حصلت على نقطتين مقابل" in chat.standin.messages(LAYLA.id)[-1].text


async def test_persian_help_names_the_currency_and_translates_the_arguments(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    customer = await chat.reply_text(SARA, "/help")
    assert "هر ریال سعودی خرید، ۱ امتیاز برایتان می‌آورد." in customer and "SAR" not in customer
    owner = await chat.reply_text(PERSIAN_OWNER, "/help")
    assert "/award <عضو> <مبلغ> [یادداشت] — " in owner and "/staff [add|remove <شناسه‌ی کاربر>] — " in owner
    assert "/rewards_admin — " in owner and "  " not in owner  # no double space where a command has no arguments
    assert "<member>" not in owner and "[note]" not in owner


async def test_arabic_help_arguments_match_the_usage_errors(chat: Chat, app: App) -> None:
    help_text = await chat.reply_text(ARABIC_OWNER, "/help")
    usage = await chat.reply_text(ARABIC_OWNER, "/award")
    assert "/award <العضو> <المبلغ> [ملاحظة]" in help_text and "/award <العضو> <المبلغ> [ملاحظة]" in usage


async def test_generated_lists_use_the_arabic_comma(chat: Chat, app: App) -> None:
    await chat.say(CASHIER, "/start")
    reply = await chat.reply_text(ARABIC_OWNER, f"/staff add {STAFF_ID}")
    assert "/award، /member، /redeem، /stamp، /setbirthday" in reply and ", " not in reply
    staff = await chat.reply_text(PERSIAN_OWNER, "/staff")
    assert "مالکان (ADMIN_IDS): \u2068۵۰۰\u2069" in staff


async def test_a_persian_campaign_line_keeps_date_time_and_multiplier_apart(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    await chat.say(OWNER, "/campaign 1.5 48h")
    card = (await chat.say(SARA, "/balance"))[-1].text
    assert "کمپین: خریدها ×۱٫۵ امتیاز می‌گیرند، تا ۲۱ اسفند ۱۴۰۴ ساعت ۱۵:۳۰." in card


async def test_staff_see_a_members_language_named_in_their_own(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(SARA.id)
        assert member is not None
    card = await chat.reply_text(ARABIC_OWNER, f"/member {member.code}")
    assert "اللغة: الفارسية" in card and "فارسی" not in card


async def test_an_arabic_birthday_confirmation_has_one_parenthesis(chat: Chat, app: App) -> None:
    await chat.say(LAYLA, "/start")
    await chat.say(LAYLA, "/birthday")
    prompt = chat.standin.messages(LAYLA.id)[-1].text
    assert "١٤١٠/١٠/٢٢" in prompt  # the Hijri twin of 17/05/1990 (Umm al-Qura)
    confirm = (await chat.say(LAYLA, "١٤١٠/١٠/٢٢"))[0].text
    assert "(التقويم: هجري قمري): ٢٢ شوال ١٤١٠ هـ (١٧ مايو ١٩٩٠)." in confirm
    assert not re.search(r"\)\s*\(", confirm)


async def test_pager_and_back_buttons_have_no_mirrored_arrows(chat: Chat, app: App) -> None:
    """«» and ‹› mirror in right-to-left text: in a row laid out left to right both would point inward."""
    await chat.say(SARA, "/start")
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(SARA.id)
        assert member is not None
    for amount in range(1, 12):
        await chat.say(OWNER, f"/award {member.code} {amount}")
    first = (await chat.say(SARA, "/history"))[-1]
    older = dict(chat.standin.buttons(first))["🔽 قدیمی‌تر"]
    await chat.press(SARA, first, older)
    labels = [label for label, _data in chat.standin.buttons(chat.standin.messages(SARA.id)[-1])]
    assert labels == ["🔼 جدیدتر"]
    assert not any(unicodedata.mirrored(ch) for label in labels for ch in label)
