"""/broadcast: the owner writes to a segment of members (SPEC §4).

    /broadcast ─▶ segment ─┬─ all / birthdays this month / never purchased ─┐
                           ├─ by language ─▶ language ──────────────────────┤ (skips "how many texts")
                           ├─ by tier ─▶ tier ──────────────────────────────┤
                           └─ inactive ─▶ days (typed) ─────────────────────┤
                                                                            ▼
            how many texts (one for all | one per language) ─▶ text(s) ─▶ preview
            (any text may come as one photo with the text as its caption; a photo
            alone is kept and its text asked for; every member gets the photo)
            preview ─┬─ 📤 send now ─▶ outbox (report to the owner when done)
                     ├─ 🕒 schedule ─▶ time (typed) ─▶ scheduled [cancel button]
                     ├─ ⭐ top tiers first ─▶ from which tier ─▶ how many hours later for the rest ─▶ preview
                     └─ ✖️ cancel

Any command, or /cancel, leaves the conversation (see `conversations`).
The send buttons carry a one-time token: a double tap sends once. Before
confirming, the owner is told about how long the sending takes
(`bot.domain.send_time`: recipients ÷ BROADCAST_RATE, at most 30/s without
PAID_BROADCAST).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.domain.broadcasts import LANGUAGES, Segment, UnreadableTime, check_text, parse_days, parse_send_time
from bot.domain.calendars import GREGORIAN, HIJRI, JALALI, in_calendar
from bot.domain.errors import DomainError
from bot.domain.send_time import SendTime, send_time
from bot.i18n import LANGUAGE_NAMES
from bot.services import broadcasts
from bot.telegram.dates import hijri_month, jalali_month
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsOwner
from bot.telegram.render import Fmt, esc, isolate, language_name
from bot.telegram.scheduled_notices import opt_out_line, personalise, pick_text


class BroadcastForm(StatesGroup):
    segment = State()
    days = State()
    mode = State()
    text = State()
    preview = State()
    when = State()


class Step(CallbackData, prefix="bc"):
    action: str
    value: str = ""


def _button(text: str, action: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=Step(action=action, value=value).pack())


def _cancel_row() -> list[InlineKeyboardButton]:
    return [_button(_("✖️ Cancel"), "cancel")]


_CALENDAR_OF = {"gregorian": "g", "jalali": "j", "hijri": "h"}


# -- labels -------------------------------------------------------------------------
def segment_label(segment: Segment, ctx: Any, fmt: Fmt) -> str:
    if segment.kind == "language":
        return _("members who speak {language}").format(language=language_name(segment.language or "en"))
    if segment.kind == "tier":
        tiers = ctx.program.tiers
        return _("members in the {tier} tier").format(tier=fmt.name(tiers[min(segment.tier or 0, len(tiers) - 1)].name))
    if segment.kind == "inactive":
        days = segment.days or 0
        return ngettext(
            "members without a purchase for {days} day or more", "members without a purchase for {days} days or more", days
        ).format(days=fmt.num(days))
    if segment.kind == "birthdays":
        return _("members whose birthday is this month ({month})").format(month=_month_now(ctx, segment, fmt))
    if segment.kind == "never":
        return _("members who never made a purchase")
    return _("all members")


def _month_now(ctx: Any, segment: Segment, fmt: Fmt) -> str:
    today = ctx.now().astimezone(ctx.zone).date()
    if segment.calendar == "j":
        return jalali_month(in_calendar(today, "j")[1])
    if segment.calendar == "h":
        return hijri_month(in_calendar(today, "h")[1])
    return format_date(today, "MMMM", locale=fmt.lang)


# -- steps --------------------------------------------------------------------------
async def begin(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(BroadcastForm.segment)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(_("Everyone"), "seg", "all"), _button(_("By language"), "seg", "language")],
            [_button(_("By tier"), "seg", "tier"), _button(_("Inactive for N days"), "seg", "inactive")],
            [_button(_("Birthdays this month"), "seg", "birthdays"), _button(_("Never purchased"), "seg", "never")],
            _cancel_row(),
        ]
    )
    await message.answer(_("📣 New broadcast. Who should get it?"), reply_markup=keyboard)


async def segment_chosen(
    query: CallbackQuery, callback_data: Step, state: FSMContext, ctx: Any, fmt: Fmt
) -> None:
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    choice = callback_data.value
    if message is None:
        return
    if choice == "language":
        rows = [[_button(LANGUAGE_NAMES[lang], "lang", lang) for lang in LANGUAGES], _cancel_row()]
        await message.edit_text(_("Which language?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))
        return
    if choice == "tier":
        rows = [[_button(fmt.name(t.name), "tier", str(i)) for i, t in enumerate(ctx.program.tiers)], _cancel_row()]
        await message.edit_text(_("Which tier?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))
        return
    if choice == "inactive":
        await state.set_state(BroadcastForm.days)
        await message.edit_text(
            _("Members without a purchase for how many days? Send a number, e.g. 30."), reply_markup=None
        )
        return
    if choice == "birthdays":
        segment = Segment("birthdays", calendar=_CALENDAR_OF[fmt.calendar])
    elif choice in ("all", "never"):
        segment = Segment(choice)
    else:
        await query.answer(_("This button is no longer valid. Nothing was changed; open the menu again."), show_alert=True)
        return
    await message.edit_reply_markup(reply_markup=None)
    await _segment_ready(message, state, ctx, fmt, segment)


async def language_chosen(query: CallbackQuery, callback_data: Step, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    await query.answer()
    if callback_data.value not in LANGUAGES or not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await _segment_ready(query.message, state, ctx, fmt, Segment("language", language=callback_data.value))


async def tier_chosen(query: CallbackQuery, callback_data: Step, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    await query.answer()
    if not callback_data.value.isdigit() or int(callback_data.value) >= len(ctx.program.tiers):
        return
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _segment_ready(query.message, state, ctx, fmt, Segment("tier", tier=int(callback_data.value)))


async def days_typed(message: Message, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    days = parse_days(message.text or "")
    await _segment_ready(message, state, ctx, fmt, Segment("inactive", days=days))


async def _segment_ready(message: Message, state: FSMContext, ctx: Any, fmt: Fmt, segment: Segment) -> None:
    audience = await broadcasts.audience(ctx, segment)
    lines = [
        _("Segment: {segment}.").format(segment=segment_label(segment, ctx, fmt)),
        _("Members who will get it: {count} of {total}.").format(
            count=fmt.num(audience.reachable), total=fmt.num(audience.total)
        ),
    ]
    if audience.opted_out or audience.blocked:
        lines.append(
            _("Not included: {opted_out} without consent to offers, {blocked} who blocked the bot.").format(
                opted_out=fmt.num(audience.opted_out), blocked=fmt.num(audience.blocked)
            )
        )
    if audience.reachable == 0:
        await state.clear()
        lines.append(_("Nobody in this segment can get offers right now, so there is nothing to send."))
        await message.answer("\n".join(lines))
        return
    languages = [lang for lang in LANGUAGES if audience.by_language.get(lang)]
    await state.update_data(
        segment=segment.to_json(), languages=languages, texts={}, reachable=audience.reachable,
        by_language=audience.by_language,
    )
    if segment.kind == "language" or len(languages) == 1:
        await state.update_data(pending=languages)
        await state.set_state(BroadcastForm.text)
        lines.append(_text_prompt(languages[0], audience.by_language, fmt))
        await message.answer("\n\n".join(["\n".join(lines[:-1]), lines[-1]]), reply_markup=None)
        return
    await state.set_state(BroadcastForm.mode)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(_("One text for everyone"), "mode", "one"), _button(_("A text per language"), "mode", "each")],
            _cancel_row(),
        ]
    )
    lines.append(_("Write one text for everyone, or one per language?"))
    await message.answer("\n".join(lines), reply_markup=keyboard)


def _text_prompt(lang: str | None, by_language: dict[str, int], fmt: Fmt) -> str:
    if lang is None:
        first = _("✍️ Send the message for everyone.")
    else:
        first = _("✍️ Send the message in {language} (members: {count}).").format(
            language=language_name(lang), count=fmt.num(by_language.get(lang, 0))
        )
    return first + "\n" + _(
        "You can write {name_tag} and {points_tag}: each member sees their own name and points."
    ).format(name_tag="<code>{first_name}</code>", points_tag="<code>{points}</code>") + "\n" + points_word_hint(fmt) + (
        "\n" + _("🖼 You can also send one photo with the message as its caption.")
    )


def points_word_hint(fmt: Fmt) -> str:
    """{points} becomes e.g. "120 points": the owner should not write the word again."""
    return _("{points_tag} already includes the word “points” (it becomes e.g. {example}), so do not add it.").format(
        points_tag="<code>{points}</code>", example=fmt.points(120)
    )


async def mode_chosen(query: CallbackQuery, callback_data: Step, state: FSMContext, fmt: Fmt) -> None:
    await query.answer()
    if callback_data.value not in ("one", "each") or not isinstance(query.message, Message):
        return
    data = await state.get_data()
    pending = data["languages"] if callback_data.value == "each" else [None]
    await state.update_data(pending=pending)
    await state.set_state(BroadcastForm.text)
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(_text_prompt(pending[0], data["by_language"], fmt))


async def text_typed(message: Message, state: FSMContext, ctx: Any, fmt: Fmt, member: Any, i18n: I18n) -> None:
    data = await state.get_data()
    pending: list[str | None] = list(data["pending"])
    texts: dict[str, str] = dict(data["texts"])
    plains: dict[str, str] = dict(data.get("plains") or {})
    if message.photo:
        # One photo for the broadcast (a later one replaces it); the texts so far must fit a caption.
        for key, plain in plains.items():
            check_text(plain, texts[key], photo=True)
        await state.update_data(photo=message.photo[-1].file_id)
        if not message.caption:
            await message.answer(
                _("🖼 The photo is added: every member gets it with the message as its caption.") + "\n\n"
                + _text_prompt(pending[0], data["by_language"], fmt)
            )
            return
        plain = message.caption
    elif message.text:
        plain = message.text
    else:
        await message.answer(_("Please send the message as text, or one photo with the message as its caption."))
        return
    check_text(plain, message.html_text, photo=bool(message.photo or data.get("photo")))
    texts[pending[0] or "*"] = message.html_text
    plains[pending[0] or "*"] = plain
    pending = pending[1:]
    await state.update_data(pending=pending, texts=texts, plains=plains)
    if pending:
        await message.answer(_text_prompt(pending[0], data["by_language"], fmt))
        return
    await _preview(message, state, ctx, fmt, member, i18n, texts)


async def _preview(
    message: Message, state: FSMContext, ctx: Any, fmt: Fmt, member: Any, i18n: I18n, texts: dict[str, str]
) -> None:
    owner_name = member.first_name if member is not None else (message.from_user.first_name if message.from_user else None)
    points = member.balance if member is not None else 0
    languages = [fmt.lang] if "*" in texts else [lang for lang in LANGUAGES if lang in texts]
    photo = (await state.get_data()).get("photo")
    for lang in languages:
        reader = Fmt(lang, ctx.program.display, ctx.zone)
        with i18n.use_locale(lang):
            body = personalise(pick_text(texts, lang), reader, owner_name, points) + "\n\n" + opt_out_line()
        header = (
            _("👀 Preview, as a member sees it (with your name and points):")
            if "*" in texts
            else _("👀 Preview for members who speak {language}:").format(language=language_name(lang))
        )
        if "{points}" in pick_text(texts, lang):
            header += "\n" + points_word_hint(fmt)
        await message.answer(header)
        if photo:
            await message.answer_photo(photo, caption=body)
        else:
            await message.answer(body)
    token = await broadcasts.issue_confirmation(ctx, message.chat.id)
    await state.update_data(token=token, early=None)
    await state.set_state(BroadcastForm.preview)
    await _confirm(message, state, ctx, fmt)


async def _confirm(message: Message, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    data = await state.get_data()
    token = data["token"]
    segment = Segment.from_json(data["segment"])
    rows = [[_button(_("📤 Send now"), "go", token), _button(_("🕒 Schedule"), "when", token)]]
    if len(ctx.program.tiers) > 1 and segment.kind != "tier" and not data.get("early"):
        rows.append([_button(_("⭐ Top tiers first"), "early")])
    rows.append(_cancel_row())
    lines = [
        _("Send this to {segment}? Members who will get it: {count}.").format(
            segment=segment_label(segment, ctx, fmt), count=fmt.num(data.get("reachable", 0))
        ),
        duration_line(send_time(int(data.get("reachable", 0)), ctx.settings.broadcast_rate, ctx.paid_broadcast),
                      int(data.get("reachable", 0)), fmt),
    ]
    early = data.get("early")
    if early:
        first, later = await broadcasts.early_split(ctx, segment, int(early[0]))
        lines.append(
            ngettext(
                "⭐ {tier} and above first ({first}); everyone else ({later}) {count} hour later.",
                "⭐ {tier} and above first ({first}); everyone else ({later}) {count} hours later.",
                int(early[1]),
            ).format(
                tier=fmt.name(ctx.program.tiers[int(early[0])].name), first=fmt.num(first), later=fmt.num(later),
                count=fmt.num(int(early[1])),
            )
        )
    await message.answer("\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


def duration_line(estimate: SendTime, recipients: int, fmt: Fmt) -> str:
    """"⏱ Sending to 12,000 members takes about 7 minutes.", in the owner's language and digits."""
    count = fmt.num(estimate.count)
    if estimate.unit == "seconds":
        took = _("less than a minute")
    elif estimate.unit == "minutes":
        took = ngettext("about {count} minute", "about {count} minutes", estimate.count).format(count=count)
    else:
        took = ngettext("about {count} hour", "about {count} hours", estimate.count).format(count=count)
    return ngettext(
        "⏱ Sending to {count} member takes {duration}.", "⏱ Sending to {count} members takes {duration}.", recipients
    ).format(count=fmt.num(recipients), duration=took)


EARLY_HOURS = (2, 12, 24, 48)


async def ask_early_tier(query: CallbackQuery, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    rows = [[_button(fmt.name(t.name), "etier", str(i)) for i, t in enumerate(ctx.program.tiers) if i > 0], _cancel_row()]
    await query.message.edit_text(
        _("Which tiers get it first? Members of this tier and above get it at once."),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def early_tier_chosen(query: CallbackQuery, callback_data: Step, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    await query.answer()
    if not callback_data.value.isdigit() or not 0 < int(callback_data.value) < len(ctx.program.tiers):
        return
    await state.update_data(early_tier=int(callback_data.value))
    if isinstance(query.message, Message):
        rows = [
            [_button(ngettext("{count} hour", "{count} hours", h).format(count=fmt.num(h)), "ehrs", str(h))
             for h in EARLY_HOURS],
            _cancel_row(),
        ]
        await query.message.edit_text(
            _("How much later should everyone else get it?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
        )


async def early_hours_chosen(query: CallbackQuery, callback_data: Step, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    await query.answer()
    data = await state.get_data()
    if not callback_data.value.isdigit() or int(callback_data.value) not in EARLY_HOURS or "early_tier" not in data:
        return
    await state.update_data(early=[data["early_tier"], int(callback_data.value)])
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _confirm(query.message, state, ctx, fmt)


def _early(data: dict[str, Any]) -> tuple[int, int] | None:
    early = data.get("early")
    return (int(early[0]), int(early[1])) if early else None


async def send_now(query: CallbackQuery, callback_data: Step, state: FSMContext, ctx: Any, fmt: Fmt, lang: str) -> None:
    data = await state.get_data()
    created = await broadcasts.create_broadcast(
        ctx,
        owner_id=query.from_user.id,
        owner_lang=lang,
        segment=Segment.from_json(data["segment"]),
        texts=data["texts"],
        send_at=None,
        token=callback_data.value,
        early=_early(data),
        photo=data.get("photo"),
    )
    await state.clear()
    if not created.created:
        await query.answer(_("Already sent."))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("📤 Broadcast #{number} is on its way. Recipients: {count}. I will send you a report when it is done.").format(
                number=fmt.num(created.broadcast.id), count=fmt.num(created.released)
            ),
            reply_markup=None,
        )


def schedule_example(ctx: Any, fmt: Fmt) -> str:
    """A date-and-time example two days from today, in the owner's calendar and digits
    (what `parse_send_time` reads back), so it never lies in the past."""
    day = (ctx.now().astimezone(ctx.zone) + timedelta(days=2)).date()
    calendar = {"jalali": JALALI, "hijri": HIJRI}.get(fmt.calendar, GREGORIAN)
    year, month, mday = in_calendar(day, calendar)
    typed = f"{year:04d}-{month:02d}-{mday:02d}" if calendar == GREGORIAN else f"{year:04d}/{month:02d}/{mday:02d}"
    return isolate(fmt.digits_of(f"{typed} 18:30"))


async def ask_time(query: CallbackQuery, callback_data: Step, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    await query.answer()
    await state.set_state(BroadcastForm.when)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _("🕒 When should it go out? Send a time ({zone}), e.g. 18:30, tomorrow 10:00 or {example}.").format(
                zone=esc(ctx.settings.timezone), example=schedule_example(ctx, fmt)
            )
        )


async def time_typed(message: Message, state: FSMContext, ctx: Any, fmt: Fmt, lang: str) -> None:
    assert message.from_user is not None
    now_local = ctx.now().astimezone(ctx.zone)
    try:
        moment = parse_send_time(message.text or "", now_local)
    except UnreadableTime as error:
        error.details["example"] = schedule_example(ctx, fmt)
        raise
    data = await state.get_data()
    created = await broadcasts.create_broadcast(
        ctx,
        owner_id=message.from_user.id,
        owner_lang=lang,
        segment=Segment.from_json(data["segment"]),
        texts=data["texts"],
        send_at=moment,
        token=data["token"],
        early=_early(data),
        photo=data.get("photo"),
    )
    await state.clear()
    when = _("{date} at {time}").format(date=fmt.date(moment), time=fmt.digits_of(moment.strftime("%H:%M")))
    lines = [_("🕒 Broadcast #{number} is scheduled for {when}.").format(number=fmt.num(created.broadcast.id), when=when)]
    quiet = ctx.program.messaging.quiet
    if quiet is not None and quiet.contains(moment.time()):
        lines.append(
            _("That is within quiet hours ({hours}): members get it from {end}.").format(
                hours=fmt.digits_of(str(quiet)), end=fmt.digits_of(quiet.end.strftime("%H:%M"))
            )
        )
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[_button(_("✖️ Cancel this broadcast"), "stop", str(created.broadcast.id))]])
    await message.answer("\n".join(lines), reply_markup=keyboard)


async def stop_scheduled(query: CallbackQuery, callback_data: Step, ctx: Any, fmt: Fmt) -> None:
    if not callback_data.value.isdigit():
        await query.answer(_("This button is no longer valid. Nothing was changed; open the menu again."), show_alert=True)
        return
    status = await broadcasts.cancel_broadcast(ctx, actor_id=query.from_user.id, broadcast_id=int(callback_data.value))
    if status == "cancelled":
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _("Broadcast #{number} is cancelled: nothing was sent.").format(number=fmt.num(int(callback_data.value))),
                reply_markup=None,
            )
        return
    text = (
        _("Too late to cancel: that broadcast has already gone out.")
        if status in ("sending", "done")
        else _("This button is no longer valid. Nothing was changed; open the menu again.")
    )
    await query.answer(text, show_alert=True)


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Broadcast cancelled: nothing was sent."), reply_markup=None)


# -- what went wrong ---------------------------------------------------------------
@describes("invalid_days")
def _invalid_days(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is not a number of days. Send a whole number from 1 to {maximum}.").format(
        text=echo(error.details.get("text", "")), maximum=fmt.num(error.details.get("maximum", 0))
    )


@describes("message_too_long")
def _too_long(error: DomainError, fmt: Fmt) -> str:
    return _(
        "That message is too long: with names and points filled in it could reach {length} characters; "
        "the limit is {limit}. Please shorten it."
    ).format(length=fmt.num(error.details["length"]), limit=fmt.num(error.details["limit"]))


@describes("empty_message")
def _empty(error: DomainError, fmt: Fmt) -> str:
    return _("The message is empty. Please send some text.")


@describes("unreadable_time")
def _unreadable_time(error: DomainError, fmt: Fmt) -> str:
    return _("I could not read {text} as a time. Send e.g. 18:30, tomorrow 10:00 or {example}.").format(
        text=echo(error.details.get("text", "")), example=error.details.get("example", "")
    )


@describes("time_in_past")
@describes("date_in_past")
def _in_past(error: DomainError, fmt: Fmt) -> str:
    return _("That time has already passed. Send a time in the future.")


@describes("date_too_far")
def _too_far(error: DomainError, fmt: Fmt) -> str:
    days = int(error.details.get("days", 0))
    return ngettext(
        "That is too far ahead: a broadcast can be scheduled up to {days} day from now.",
        "That is too far ahead: a broadcast can be scheduled up to {days} days from now.",
        days,
    ).format(days=fmt.num(days))


def create_router() -> Router:
    router = Router(name="broadcast")
    router.message.filter(IsOwner)
    router.callback_query.filter(IsOwner)
    router.message.register(begin, Command("broadcast"))
    router.callback_query.register(segment_chosen, StateFilter(BroadcastForm.segment), Step.filter(F.action == "seg"))
    router.callback_query.register(language_chosen, StateFilter(BroadcastForm.segment), Step.filter(F.action == "lang"))
    router.callback_query.register(tier_chosen, StateFilter(BroadcastForm.segment), Step.filter(F.action == "tier"))
    router.message.register(days_typed, StateFilter(BroadcastForm.days), F.text, ~F.text.startswith("/"))
    router.callback_query.register(mode_chosen, StateFilter(BroadcastForm.mode), Step.filter(F.action == "mode"))
    router.message.register(text_typed, StateFilter(BroadcastForm.text), ~F.text.startswith("/"))
    router.callback_query.register(send_now, StateFilter(BroadcastForm.preview), Step.filter(F.action == "go"))
    router.callback_query.register(ask_time, StateFilter(BroadcastForm.preview), Step.filter(F.action == "when"))
    router.callback_query.register(ask_early_tier, StateFilter(BroadcastForm.preview), Step.filter(F.action == "early"))
    router.callback_query.register(
        early_tier_chosen, StateFilter(BroadcastForm.preview), Step.filter(F.action == "etier")
    )
    router.callback_query.register(
        early_hours_chosen, StateFilter(BroadcastForm.preview), Step.filter(F.action == "ehrs")
    )
    router.message.register(time_typed, StateFilter(BroadcastForm.when), F.text, ~F.text.startswith("/"))
    router.callback_query.register(stop_scheduled, Step.filter(F.action == "stop"))
    router.callback_query.register(cancel, StateFilter(BroadcastForm), Step.filter(F.action == "cancel"))
    return router
