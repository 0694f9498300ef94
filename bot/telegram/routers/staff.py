"""Counter commands for staff and owners: /award and /member (SPEC §4)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.domain.errors import MemberNotFound
from bot.domain.ledger import command_key
from bot.i18n import LANGUAGES
from bot.services import claims, points
from bot.services.members import find_member, split_member
from bot.telegram.filters import IsStaff
from bot.telegram.render import Fmt, esc, language_name


def member_label(member: Any, fmt: Fmt) -> str:
    name = esc(" ".join(p for p in (member.first_name, member.last_name) if p)) or _("(no name)")
    return f"{name} {fmt.code(member.code)}"


async def award(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    assert message.from_user is not None
    who, rest = await split_member(ctx, command.args or "", keep=1)
    if not rest:
        await message.answer(
            esc(_("Usage: /award <member> <amount> [note]\nExample: /award W7K2QF 120.50 two lattes"))
        )
        return
    note = (command.args or "").split(None, len(who.split()) + 1)[len(who.split()) + 1:]
    result = await points.award_purchase(
        ctx,
        actor_id=message.from_user.id,
        member_text=who,
        amount_text=rest[0],
        note=note[0] if note else None,
        key=command_key("award", message.chat.id, message.message_id),
    )
    who = member_label(result.member, fmt)
    purchase = fmt.money(result.amount, ctx.program.currency)
    if result.duplicate:
        text = _("This purchase was already recorded: {points} to {member} for {amount}. Nothing was added.")
    else:
        text = _("✅ {points} to {member} for a purchase of {amount}.")
    lines = [text.format(points=fmt.points(result.points), member=who, amount=purchase)]
    if not result.duplicate:
        lines += multiplier_lines(ctx, result, fmt)
    lines.append(_("New balance: {balance}.").format(balance=fmt.points(result.balance)))
    await message.answer("\n".join(lines))


def multiplier_lines(ctx: Any, result: Any, fmt: Fmt) -> list[str]:
    """Why the points differ from the amount × rate: the member's tier, a running campaign."""
    lines = []
    campaign = result.campaign or Decimal(1)
    tier_multiplier = result.multiplier / campaign
    if tier_multiplier != 1:
        tier = ctx.program.tiers[min(result.tier, len(ctx.program.tiers) - 1)]
        lines.append(_("Includes ×{multiplier} for the member's tier ({tier}).").format(
            multiplier=fmt.num(tier_multiplier.normalize()), tier=fmt.name(tier.name)
        ))
    if campaign != 1:
        lines.append(_("Includes ×{multiplier} for the running campaign.").format(multiplier=fmt.num(campaign.normalize())))
    return lines


async def member_card(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    query, rest = await split_member(ctx, command.args or "", keep=0)
    if not query or rest:
        await message.answer(esc(_("Usage: /member <member>\nExample: /member W7K2QF")))
        return
    try:
        async with ctx.uow(readonly=True) as uow:
            member = await find_member(uow, query)
    except MemberNotFound:
        waiting = await claims.waiting_for_phone(ctx, query)
        if waiting is None or not waiting.claims:
            raise
        await message.answer(
            ngettext(
                "No member has this phone yet. {points} from one online purchase wait for it: they are credited "
                "when the customer joins and shares this number with the 📱 button.",
                "No member has this phone yet. {points} from {count} online purchases wait for it: they are "
                "credited when the customer joins and shares this number with the 📱 button.",
                waiting.claims,
            ).format(points=fmt.points(waiting.points), count=fmt.num(waiting.claims))
        )
        return
    lines = [profile_text(ctx, member, fmt)]
    summary = await claims.member_claims(ctx, member)
    if summary.credited:
        lines.append(_("Credited from online orders by phone: {points}").format(points=fmt.points(summary.credited)))
    if summary.waiting:
        lines.append(_("Still waiting for their phone: {points}").format(points=fmt.points(summary.waiting)))
    await message.answer("\n".join(lines))


def profile_text(ctx: Any, member: Any, fmt: Fmt) -> str:
    tier = ctx.program.tiers[min(member.tier, len(ctx.program.tiers) - 1)]
    lines = [
        f"👤 {member_label(member, fmt)}",
        _("Username: {username}").format(username=f"@{esc(member.username)}" if member.username else "—"),
        _("Phone: {phone}").format(phone=fmt.digits_of("•••" + member.phone[-4:]) if member.phone else "—"),
        _("Language: {language}").format(
            language=language_name(member.language) if member.language in LANGUAGES else esc(member.language or "—")
        ),
        _("Tier: {tier}").format(tier=fmt.name(tier.name)),
        _("Balance: {balance}").format(balance=fmt.points(member.balance)),
        *_stamp_line(ctx, member, fmt),
        _("Member since: {date}").format(date=fmt.date(member.joined_at)),
        _("Last visit: {date}").format(date=fmt.date(member.last_purchase_at) if member.last_purchase_at else _("never")),
    ]
    if member.blocked_at is not None:
        lines.append(_("⚠️ This member has blocked the bot and gets no messages."))
    return "\n".join(lines)


def _stamp_line(ctx: Any, member: Any, fmt: Fmt) -> list[str]:
    spec = ctx.program.stamps
    if spec is None:
        return []
    from bot.telegram.routers.stamps import card_line  # the stamps router imports member_label from here

    return [_("Stamp card: {card}").format(card=card_line(fmt, member.stamps, spec.every))]


def create_router() -> Router:
    router = Router(name="staff")
    router.message.filter(IsStaff)
    router.message.register(award, Command("award"))
    router.message.register(member_card, Command("member"))
    return router
