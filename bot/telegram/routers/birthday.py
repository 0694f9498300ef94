"""/birthday: a date in any calendar and digits, confirmed back, saved once (SPEC §3).

    /birthday ──▶ waiting for a date ──text──▶ one reading ──▶ confirm ──✅──▶ saved
                        ▲                 └─▶ several ──▶ pick the calendar ──▶ confirm
                        └────────────────────────── ✏️ fix it ◀──────────────┘

The date travels in the buttons (not in the conversation state), so a
confirmation still works after a restart or on another replica. Staff
correct a saved birthday with `/setbirthday <member> <date> [calendar]`.
"""
from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.calendars import BirthDate, BirthdayAlreadySet
from bot.domain.errors import DomainError, NotAMember
from bot.services import birthdays
from bot.telegram.dates import birth_date, birth_date_with_equivalent, calendar_name
from bot.telegram.edits import already_done, answer_quietly, edit_or_done, keyboard_gone
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsStaff
from bot.telegram.render import Fmt, esc
from bot.telegram.routers.staff import member_label


class BirthdayForm(StatesGroup):
    date = State()


class AskBirthday(CallbackData, prefix="bda"):
    """The optional step offered in the /start welcome."""


class PickCalendar(CallbackData, prefix="bdc"):
    c: str
    y: int
    m: int
    d: int


class ConfirmBirthday(CallbackData, prefix="bdo"):
    c: str
    y: int
    m: int
    d: int


class FixBirthday(CallbackData, prefix="bdr"):
    """"No, let me fix it"."""


def ask_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("🎂 Add my birthday"), callback_data=AskBirthday().pack())]]
    )


def welcome_offer(ctx: Any, fmt: Fmt) -> str:
    """The line the /start welcome shows beside the birthday button."""
    bonus = ctx.program.bonuses.birthday
    if bonus:
        return _("Optional: tell me your birthday and get {points} from us on the day.").format(
            points=fmt.points(bonus)
        )
    return _("Optional: tell me your birthday and we will celebrate it with you.")


def prompt_text() -> str:
    return _(
        "🎂 When is your birthday? Send the date with the year, for example 1990-05-17, 17/05/1990 "
        "or ۱۳۶۹/۰۲/۲۷. Gregorian, Solar Hijri (Jalali) and Lunar Hijri dates all work.\n"
        "Send /cancel to stop."
    )


def _birth(data: PickCalendar | ConfirmBirthday) -> BirthDate:
    return BirthDate(data.c, data.y, data.m, data.d)


def confirm_view(birth: BirthDate, fmt: Fmt) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Your birthday in the {calendar} calendar: <b>{date}</b>. Is that right?\n"
        "You can set it only once; after that, changes go through our staff."
    ).format(date=birth_date_with_equivalent(birth, fmt), calendar=calendar_name(birth.calendar))
    fields = {"c": birth.calendar, "y": birth.year, "m": birth.month, "d": birth.day}
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("✅ Yes, save it"), callback_data=ConfirmBirthday(**fields).pack()),
                InlineKeyboardButton(text=_("✏️ No, let me fix it"), callback_data=FixBirthday().pack()),
            ]
        ]
    )
    return text, keyboard


def saved_text(member: Any, fmt: Fmt) -> str | None:
    saved = birthdays.saved_birthday(member)
    if saved is None:
        return None
    return _("🎂 Your birthday is saved: {date}. To change it, please ask our staff.").format(
        date=birth_date_with_equivalent(saved, fmt)
    )


async def start_asking(message: Message, state: FSMContext, member: Any, fmt: Fmt) -> None:
    if member is None:
        raise NotAMember()
    already = saved_text(member, fmt)
    if already is not None:
        await message.answer(already)
        return
    await state.set_state(BirthdayForm.date)
    await message.answer(prompt_text())


async def birthday_command(
    message: Message, command: CommandObject, ctx: Any, state: FSMContext, member: Any, fmt: Fmt
) -> None:
    """`/birthday` asks; `/birthday 1990-05-17` reads the date given with it at once (SPEC §3)."""
    given = (command.args or "").strip()
    if not given:
        await start_asking(message, state, member, fmt)
        return
    if member is None:
        raise NotAMember()
    already = saved_text(member, fmt)
    if already is not None:
        await message.answer(already)
        return
    # A date that cannot be read is answered, and the next message may be the date.
    await state.set_state(BirthdayForm.date)
    await show_readings(message, ctx, fmt, given)


async def birthday_button(query: CallbackQuery, state: FSMContext, member: Any, fmt: Fmt) -> None:
    if keyboard_gone(query):
        await already_done(query)  # a double tap: the question was asked once
        return
    if isinstance(query.message, Message):
        if not await edit_or_done(query, query.message.edit_reply_markup(reply_markup=None)):
            return
        await answer_quietly(query)
        await start_asking(query.message, state, member, fmt)
        return
    await answer_quietly(query)


async def date_typed(message: Message, ctx: Any, fmt: Fmt, member: Any, state: FSMContext) -> None:
    if member is None:
        await state.clear()
        raise NotAMember()
    await show_readings(message, ctx, fmt, message.text or "")


async def show_readings(message: Message, ctx: Any, fmt: Fmt, text: str) -> None:
    """Confirm the one reading of `text`, or ask which calendar it is in."""
    readings = birthdays.read_birthday(ctx, text)
    if len(readings) == 1:
        text, keyboard = confirm_view(readings[0], fmt)
        await message.answer(text, reply_markup=keyboard)
        return
    rows = [
        [
            InlineKeyboardButton(
                text=f"{calendar_name(r.calendar)}: {birth_date(r, fmt)}",
                callback_data=PickCalendar(c=r.calendar, y=r.year, m=r.month, d=r.day).pack(),
            )
        ]
        for r in _likely_first(readings, fmt)
    ]
    await message.answer(
        _("Which calendar is this date in?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


def _likely_first(readings: list[BirthDate], fmt: Fmt) -> list[BirthDate]:
    """The reader's own calendar first (Jalali for Persian, Hijri for Arabic)."""
    preferred = {"fa": "j", "ar": "h"}.get(fmt.lang, "g")
    return sorted(readings, key=lambda r: r.calendar != preferred)


async def not_a_date(message: Message) -> None:
    await message.answer(_("Please send your birthday as a date, e.g. 17/05/1990, or /cancel."))


async def calendar_picked(query: CallbackQuery, callback_data: PickCalendar, ctx: Any, fmt: Fmt) -> None:
    text, keyboard = confirm_view(birthdays.validate(ctx, _birth(callback_data)), fmt)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)


async def confirmed(query: CallbackQuery, callback_data: ConfirmBirthday, ctx: Any, fmt: Fmt, state: FSMContext) -> None:
    birth = _birth(callback_data)
    try:
        await birthdays.set_birthday(ctx, query.from_user.id, birth)
    except BirthdayAlreadySet as error:
        if not error.details.get("same"):
            raise
        await query.answer(_("Already saved."))  # a double tap
        return
    await state.clear()
    await query.answer()
    bonus = ctx.program.bonuses.birthday
    lines = [_("🎂 Saved: {date}.").format(date=birth_date_with_equivalent(birth, fmt))]
    if bonus:
        lines.append(_("On your birthday you will get {points} from us.").format(points=fmt.points(bonus)))
    else:
        lines.append(_("We will celebrate it with you."))
    if isinstance(query.message, Message):
        await query.message.edit_text(" ".join(lines), reply_markup=None)


async def fix_it(query: CallbackQuery, state: FSMContext, member: Any, fmt: Fmt) -> None:
    await query.answer()
    if member is None:
        raise NotAMember()
    already = saved_text(member, fmt)
    if isinstance(query.message, Message):
        if already is not None:
            await query.message.edit_text(already, reply_markup=None)
            return
        await state.set_state(BirthdayForm.date)
        await query.message.edit_text(prompt_text(), reply_markup=None)


# -- staff -------------------------------------------------------------------------
async def set_birthday_for_member(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    assert message.from_user is not None
    args = (command.args or "").split(maxsplit=1)
    if len(args) < 2:
        await message.answer(
            esc(_("Usage: /setbirthday <member> <date> [gregorian|jalali|hijri]\n"
                  "Example: /setbirthday W7K2QF 1369/02/27 jalali"))
        )
        return
    result = await birthdays.correct_birthday(
        ctx, actor_id=message.from_user.id, member_text=args[0], date_text=args[1]
    )
    text = _("🎂 Birthday of {member} set to {date}, in the {calendar} calendar.").format(
        member=member_label(result.member, fmt),
        date=birth_date_with_equivalent(result.after, fmt),
        calendar=calendar_name(result.after.calendar),
    )
    if result.before is not None and result.before != result.after:
        text += "\n" + _("It was {date}.").format(date=birth_date(result.before, fmt))
    await message.answer(text)


# -- what went wrong ---------------------------------------------------------------
@describes("unreadable_date")
def _unreadable(error: DomainError, fmt: Fmt) -> str:
    return _("I could not read {text} as a date. Send day, month and year, e.g. 17/05/1990 or 1369/02/27.").format(
        text=echo(error.details.get("text", ""))
    )


@describes("year_not_in_full")
def _year_in_full(error: DomainError, fmt: Fmt) -> str:
    return _("Please write the year in full, e.g. 17/05/1990 rather than 17/05/90.")


@describes("no_such_date")
def _no_such_date(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is not a date that exists. Check the day and the month.").format(
        text=echo(error.details.get("text", ""))
    )


@describes("date_in_future")
def _in_future(error: DomainError, fmt: Fmt) -> str:
    return _("That date has not come yet. Please send your date of birth.")


@describes("date_too_old")
def _too_old(error: DomainError, fmt: Fmt) -> str:
    return _("That date is more than 120 years ago. Please check the year.")


@describes("birthday_already_set")
def _already_set(error: DomainError, fmt: Fmt) -> str:
    saved = error.details.get("saved")
    if saved is None:
        return _("Your birthday is already saved. To change it, please ask our staff.")
    return _("🎂 Your birthday is saved: {date}. To change it, please ask our staff.").format(
        date=birth_date_with_equivalent(saved, fmt)
    )


@describes("ambiguous_calendar")
def _ambiguous(error: DomainError, fmt: Fmt) -> str:
    return _("{text} fits more than one calendar. Add the calendar: gregorian, jalali or hijri.").format(
        text=echo(error.details.get("text", ""))
    )


def create_router() -> Router:
    router = Router(name="birthday")
    router.message.register(birthday_command, Command("birthday"))
    router.message.register(date_typed, StateFilter(BirthdayForm.date), F.text, ~F.text.startswith("/"))
    router.message.register(not_a_date, StateFilter(BirthdayForm.date), ~F.text)
    router.callback_query.register(birthday_button, AskBirthday.filter())
    router.callback_query.register(calendar_picked, PickCalendar.filter())
    router.callback_query.register(confirmed, ConfirmBirthday.filter())
    router.callback_query.register(fix_it, FixBirthday.filter())
    router.message.register(set_birthday_for_member, Command("setbirthday"), IsStaff)
    return router
