"""/balance: the member's card (SPEC §3)."""
from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.services import points
from bot.telegram.render import Fmt, esc



def card_text(ctx: Any, card: points.BalanceCard, fmt: Fmt) -> str:
    member, standing = card.member, card.standing
    lines = [
        _("<b>{merchant}</b> · member card").format(merchant=fmt.name(ctx.program.name)),
        f"👤 {esc(member.first_name or '')}".rstrip(),
        _("⭐ Balance: <b>{points}</b>").format(points=fmt.points(member.balance)),
        _("🏅 Tier: {tier}").format(tier=fmt.name(standing.tier.name)),
    ]
    if standing.next_tier is not None:
        lines.append(
            _("{bar} {points} more to reach {tier}").format(
                bar=fmt.percent_bar(standing.progress),
                points=fmt.points(standing.points_to_next),
                tier=fmt.name(standing.next_tier.name),
            )
        )
    else:
        lines.append(_("You are in our top tier. Thank you!"))
    lines.append(_("🔖 Member code: {code}").format(code=fmt.code(member.code)))
    return "\n".join(lines)


async def show_balance(message: Message, ctx: Any, fmt: Fmt, member: Any) -> None:
    card = await points.balance_card(ctx, member)
    await message.answer(card_text(ctx, card, fmt))


def create_router() -> Router:
    router = Router(name="balance")
    router.message.register(show_balance, Command("balance"))
    return router
