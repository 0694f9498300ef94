"""/adjust <member> <±points> <reason>: an owner's manual correction, audited (SPEC §4)."""
from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import DomainError
from bot.domain.ledger import command_key
from bot.services import points
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsOwner
from bot.telegram.notices import Outgoing, notice
from bot.telegram.render import Fmt, esc, isolate
from bot.telegram.routers.staff import member_label


def signed_points(value: int, fmt: Fmt) -> str:
    return isolate(("+" if value > 0 else "−") + fmt.points(abs(value)))


async def adjust(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    assert message.from_user is not None
    args = (command.args or "").split(maxsplit=2)
    if len(args) < 3:
        await message.answer(
            esc(_("Usage: /adjust <member> <±points> <reason>\nExample: /adjust W7K2QF -50 counted twice by mistake"))
        )
        return
    result = await points.adjust_points(
        ctx,
        actor_id=message.from_user.id,
        member_text=args[0],
        points_text=args[1],
        reason=args[2],
        key=command_key("adjust", message.chat.id, message.message_id),
    )
    who = member_label(result.member, fmt)
    if result.duplicate:
        text = _("This correction was already made ({points} for {member}). Nothing was changed.")
    else:
        text = _("✅ {points} for {member}. The member has been told.")
    lines = [text.format(points=signed_points(result.points, fmt), member=who)]
    lines.append(_("New balance: {balance}.").format(balance=fmt.points(result.balance)))
    await message.answer("\n".join(lines))


@describes("adjustment_too_large")
def _too_large(error: DomainError, fmt: Fmt) -> str:
    return _("{points} is more than one correction may move (at most {maximum}). Nothing was changed.").format(
        points=echo(error.details.get("text", "")), maximum=fmt.points(error.details["maximum"])
    )


@describes("reason_required")
def _reason_required(error: DomainError, fmt: Fmt) -> str:
    return _("Please give a reason for the correction. Nothing was changed.")


@notice("points_adjusted")
def _points_adjusted(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    value = int(payload["points"])
    if value > 0:
        text = _("➕ We added {points} to your balance: {reason}. Your balance is {balance}.")
    else:
        text = _("➖ We took {points} off your balance: {reason}. Your balance is {balance}.")
    return Outgoing(
        text.format(points=fmt.points(abs(value)), reason=esc(payload.get("reason", "")),
                    balance=fmt.points(int(payload["balance"])))
    )


def create_router() -> Router:
    router = Router(name="adjust")
    router.message.filter(IsOwner)
    router.message.register(adjust, Command("adjust"))
    return router
