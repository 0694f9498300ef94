"""/help: what the bot can do for this reader, in their language (SPEC §3)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.telegram.commands import menu_for
from bot.telegram.render import Fmt, esc


def earning_rule(program: Any, fmt: Fmt) -> str:
    """"Every SAR you spend earns 2 points", or "every 10 SAR earns 1 point" for rates below one."""
    rate: Decimal = program.earning.points_per_unit
    spend, points = (Decimal(1), rate) if rate >= 1 else ((1 / rate).quantize(Decimal("0.01")).normalize(), Decimal(1))
    if spend == 1:  # "every 1 riyal" is not how anyone says it
        return _("Every {currency} you spend earns {points}.").format(
            currency=fmt.currency(program.currency), points=fmt.points(points)
        )
    return _("Every {money} you spend earns {points}.").format(
        money=fmt.money(spend, program.currency), points=fmt.points(points)
    )


def help_text(ctx: Any, role: str, fmt: Fmt, member: Any) -> str:
    program = ctx.program
    lines = [
        _("<b>{merchant}</b> loyalty: earn points on every purchase, climb tiers and turn points into rewards.").format(
            merchant=fmt.name(program.name)
        ),
        earning_rule(program, fmt),
        "",
    ]
    for command in menu_for("customer"):
        lines.append(f"/{command.name} — {esc(command.describe())}")
    admin = [c for c in menu_for(role) if c.audience != "customer"]
    if admin:
        lines += ["", _("<b>For staff</b> (member = code, @username, phone or Telegram id):")]
        for command in admin:
            call = f"/{command.name} {esc(command.usage())}" if command.usage else f"/{command.name}"
            lines.append(f"{call} — {esc(command.describe())}")
    if member is not None:
        lines += [
            "",
            _("🔔 Offers and news: on.") if member.marketing_opt_in else _("🔕 Offers and news: off."),
        ]
    return "\n".join(lines)


async def show_help(message: Message, ctx: Any, role: str, fmt: Fmt, member: Any) -> None:
    await message.answer(help_text(ctx, role, fmt, member))


def create_router() -> Router:
    router = Router(name="help")
    router.message.register(show_help, Command("help"))
    return router
