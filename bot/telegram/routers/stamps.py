"""/stamp <member> [n]: the stamp card at the counter (SPEC §11), and what the member hears."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.domain.errors import DomainError
from bot.domain.ledger import command_key
from bot.domain.stamps import dots
from bot.services import stamps
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsStaff
from bot.telegram.notices import Outgoing, notice
from bot.telegram.qr import qr_card
from bot.telegram.render import Fmt, esc, isolate
from bot.telegram.reward_text import days, last_day, reward_name
from bot.telegram.routers.staff import member_label


def stamp_count(fmt: Fmt, count: int) -> str:
    return ngettext("{count} stamp", "{count} stamps", count).format(count=fmt.num(count))


def card_line(fmt: Fmt, on_card: int, every: int) -> str:
    """●●●○○○○○ 3/8, in the reader's digits."""
    return f"{dots(on_card, every)} {isolate(fmt.num(on_card) + '/' + fmt.num(every))}"


def card_name(ctx: Any, fmt: Fmt) -> str:
    spec = ctx.program.stamps
    if spec is not None and spec.name:
        return fmt.name(spec.name)
    return _("stamp card")


async def stamp(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    assert message.from_user is not None
    args = (command.args or "").split()
    if not args or len(args) > 2:
        await message.answer(esc(_("Usage: /stamp <member> [number of stamps]\nExample: /stamp W7K2QF")))
        return
    result = await stamps.stamp(
        ctx,
        actor_id=message.from_user.id,
        member_text=args[0],
        count_text=args[1] if len(args) > 1 else None,
        key=command_key("stamp", message.chat.id, message.message_id),
    )
    who = member_label(result.member, fmt)
    if result.duplicate:
        first = _("This was already recorded: {stamps} for {member}. Nothing was added.")
    else:
        first = _("✅ {stamps} for {member}.")
    lines = [
        first.format(stamps=stamp_count(fmt, result.added), member=who),
        _("Card: {card}").format(card=card_line(fmt, result.on_card, result.every)),
    ]
    for voucher in result.vouchers:
        lines.append(
            _("🎉 A full card! Voucher {code} for the member; they have it in the chat too.").format(
                code=fmt.code(voucher.code)
            )
        )
    lines.append(_("Stamps left for this member today: {count}.").format(count=fmt.num(result.left_today)))
    await message.answer("\n".join(lines))


# -- what went wrong ---------------------------------------------------------------------


@describes("no_stamp_card")
def _no_card(error: DomainError, fmt: Fmt) -> str:
    return _("This program has no stamp card. Add a [stamps] section to the program file to use /stamp.")


@describes("invalid_stamp_count")
def _invalid_count(error: DomainError, fmt: Fmt) -> str:
    maximum = int(error.details.get("maximum", 1))
    return ngettext(
        "{text} is not a number of stamps. A member can get at most {count} stamp a day.",
        "{text} is not a number of stamps. Send a whole number from 1 to {count}: a member can get at most "
        "{count} stamps a day.",
        maximum,
    ).format(text=echo(error.details.get("text", "")), count=fmt.num(maximum))


@describes("stamp_cap_reached")
def _cap_reached(error: DomainError, fmt: Fmt) -> str:
    cap, left = int(error.details["cap"]), int(error.details["left"])
    text = ngettext(
        "Not added: a member can get at most {count} stamp a day, and this member already got {given} today.",
        "Not added: a member can get at most {count} stamps a day, and this member already got {given} today.",
        cap,
    ).format(count=fmt.num(cap), given=fmt.num(int(error.details["given"])))
    if left:
        text += "\n" + _("You can still give {stamps} today.").format(stamps=stamp_count(fmt, left))
    return text


# -- notices ------------------------------------------------------------------------------


@notice("stamps_added")
def _stamps_added(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    on_card, every = int(payload["on_card"]), int(payload["every"])
    lines = [
        _("☕ +{stamps} on your {card}: {line}").format(
            stamps=stamp_count(fmt, int(payload["added"])), card=card_name(ctx, fmt), line=card_line(fmt, on_card, every)
        )
    ]
    reward = reward_name(payload.get("reward_name") or None, fmt)
    if int(payload.get("cards", 0)):
        lines.append(_("🎉 Your card is full: your voucher for {reward} comes next.").format(reward=reward))
    else:
        lines.append(
            _("{stamps} more to go for {reward}.").format(stamps=stamp_count(fmt, every - on_card), reward=reward)
        )
    return Outgoing("\n".join(lines))


@notice("voucher_given")
def _voucher_given(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    """A full stamp card's voucher, with its QR."""
    lines = [
        _("🎟 <b>Your {card} is full!</b> Here is your voucher: {reward}").format(
            card=card_name(ctx, fmt), reward=reward_name(payload.get("reward_name") or None, fmt)
        ),
        *voucher_lines(payload, fmt),
        _("Your next card starts now."),
    ]
    return Outgoing("\n".join(lines), photo=qr_card(str(payload["code"])))


def voucher_lines(payload: dict[str, Any], fmt: Fmt) -> list[str]:
    return [
        _("Code: {code}").format(code=fmt.code(str(payload["code"]))),
        _("Valid until: {date}").format(date=last_day(fmt, datetime.fromisoformat(str(payload["expires_at"])))),
        _("Show this code or the QR to the cashier. It can be used once."),
    ]


@notice("stamps_lapsed")
def _stamps_lapsed(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    text = _("⌛ {stamps} on your {card} expired: a stamp lasts {days}. Your card now: {line}").format(
        stamps=stamp_count(fmt, int(payload["lapsed"])), card=card_name(ctx, fmt),
        days=days(fmt, int(payload["days"])), line=card_line(fmt, int(payload["on_card"]), int(payload["every"])),
    )
    return Outgoing(text)


def create_router() -> Router:
    router = Router(name="stamps")
    router.message.filter(IsStaff)
    router.message.register(stamp, Command("stamp"))
    return router
