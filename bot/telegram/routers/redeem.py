"""/redeem <voucher>: staff validate a voucher at the counter; it is used once (SPEC §4)."""
from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import DomainError
from bot.domain.ledger import command_key
from bot.services import vouchers
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsStaff
from bot.telegram.render import Fmt, esc
from bot.telegram.reward_text import last_day, reward_name, what_it_is, when
from bot.telegram.routers.staff import member_label

EXAMPLE = "KQ7-2F9XAMB"


async def redeem(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    assert message.from_user is not None
    typed = (command.args or "").strip()
    if not typed or len(typed) > 40:
        await message.answer(esc(_("Usage: /redeem <voucher>\nExample: /redeem {code}").format(code=EXAMPLE)))
        return
    result = await vouchers.redeem_voucher(
        ctx, staff_id=message.from_user.id, text=typed, key=command_key("redeem", message.chat.id, message.message_id)
    )
    lines = [
        _("✅ Voucher {code} is valid and is now marked as used.").format(code=fmt.code(result.code)),
        f"🎁 <b>{reward_name(result.reward.name if result.reward else None, fmt)}</b>"
        + (f" · {what_it_is(result.reward, ctx, fmt)}" if result.reward else ""),
    ]
    if result.member is not None:
        lines.append(f"👤 {member_label(result.member, fmt)}")
    lines.append(_("Hand over the reward. This voucher cannot be used again."))
    await message.answer("\n".join(lines))


@describes("voucher_mistyped")
def _mistyped(error: DomainError, fmt: Fmt) -> str:
    return _("{code} is not a voucher code. Check it for typos: voucher codes look like {example}.").format(
        code=echo(error.details.get("text", "")), example=fmt.code(EXAMPLE)
    )


@describes("voucher_unknown")
def _unknown(error: DomainError, fmt: Fmt) -> str:
    return _("There is no voucher {code}. Do not honour it.").format(code=fmt.code(error.details["code"]))


@describes("voucher_foreign")
def _foreign(error: DomainError, fmt: Fmt) -> str:
    return _("Voucher {code} was issued by another shop, so it cannot be used here.").format(
        code=fmt.code(error.details["code"])
    )


@describes("voucher_used")
def _used(error: DomainError, fmt: Fmt) -> str:
    used_at = error.details.get("used_at")
    if used_at is None:
        return _("Voucher {code} has already been used. Do not honour it again.").format(
            code=fmt.code(error.details["code"])
        )
    return _("Voucher {code} was already used on {when}. Do not honour it again.").format(
        code=fmt.code(error.details["code"]), when=when(fmt, used_at)
    )


@describes("voucher_expired")
def _expired(error: DomainError, fmt: Fmt) -> str:
    return _("Voucher {code} expired: it was valid until {date}.").format(
        code=fmt.code(error.details["code"]), date=last_day(fmt, error.details["expires_at"])
    )


def create_router() -> Router:
    router = Router(name="redeem")
    router.message.filter(IsStaff)
    router.message.register(redeem, Command("redeem"))
    return router
