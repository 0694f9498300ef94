"""/balance: the member's card (SPEC §3), and the notices about their points and tier."""
from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.domain.cards import CardFace, tier_colour
from bot.domain.program import pick_text
from bot.services import points
from bot.telegram.card import render_card
from bot.telegram.menu_button import open_card_button
from bot.telegram.notices import Outgoing, notice
from bot.telegram.photos import send_picture
from bot.telegram.render import Fmt, esc
from bot.telegram.reward_text import days, last_day, reward_name, tier_name, when
from bot.telegram.routers.stamps import card_line


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
    if standing.tier.perks:
        lines.append(_("🎁 Your perks: {perks}").format(perks=fmt.name(standing.tier.perks)))
    if card.stamps is not None:
        lines.extend(stamp_lines(ctx, card.stamps, fmt))
    if card.expiring and card.expiring_from is not None:
        lines.append(
            _("⏳ {points} expire within {days}, the first on {date}.").format(
                points=fmt.points(card.expiring),
                days=days(fmt, ctx.program.expiry.soon_days),
                date=fmt.date(card.expiring_from),
            )
        )
    if card.campaign is not None:
        lines.append(
            _("🔥 Campaign: ×{multiplier} points on purchases until {until}.").format(
                multiplier=fmt.num(Decimal(card.campaign.multiplier)), until=when(fmt, card.campaign.ends_at)
            )
        )
    lines.append(_("🔖 Member code: {code}").format(code=fmt.code(member.code)))
    lines.append(_("Show the QR code to the cashier to collect points."))
    return "\n".join(lines)


def stamp_lines(ctx: Any, state: Any, fmt: Fmt) -> list[str]:
    spec = ctx.program.stamps
    lines = [
        _("☕ {card}: {line} · a full card gets you {reward}").format(
            card=fmt.name(spec.name) if spec.name else _("Stamp card"),
            line=card_line(fmt, state.on_card, state.every),
            reward=reward_name(state.reward.name if state.reward else None, fmt),
        )
    ]
    if state.lapses_on is not None:
        lines.append(_("The oldest stamp on your card is valid until {date}.").format(date=last_day(fmt, state.lapses_on)))
    return lines


def qr_payload(ctx: Any, member: Any) -> str:
    """What the card's QR encodes: the one place that decides it."""
    return str(member.code)


def card_face(ctx: Any, card: points.BalanceCard, lang: str) -> CardFace:
    """What the /balance picture shows (no numbers: those are in the caption)."""
    member, tier = card.member, card.standing.tier
    return CardFace(
        lang=lang,
        shop=pick_text(ctx.program.name, lang),
        member=" ".join(part for part in (member.first_name, member.last_name) if part),
        tier=pick_text(tier.name, lang),
        colour=tier_colour(card.standing.index, tier.name.get("en")),
        qr=qr_payload(ctx, member),
        code=member.code,
    )


async def show_balance(message: Message, ctx: Any, fmt: Fmt, member: Any) -> None:
    card = await points.balance_card(ctx, member)
    face = card_face(ctx, card, fmt.lang)

    async def draw() -> bytes:  # only when Telegram has no file_id for this face yet
        return await asyncio.to_thread(render_card, face)

    # With PUBLIC_URL, an "open card" button opens the Mini App; without it nothing changes.
    await send_picture(
        message.bot, ctx, message.chat.id, draw, kind="card", key=face.key,  # type: ignore[arg-type]
        filename=f"wafa-card-{card.member.code}.png", caption=card_text(ctx, card, fmt),
        reply_markup=open_card_button(ctx.settings.public_url),
    )


# -- notices ---------------------------------------------------------------------------


@notice("tier_promoted")
def _tier_promoted(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    tiers = ctx.program.tiers
    tier = tiers[min(int(payload["tier"]), len(tiers) - 1)]
    lines = [_("🎉 Congratulations! You are now {tier}.").format(tier=fmt.name(tier.name))]
    if tier.multiplier > 1:
        lines.append(
            _("Your purchases now earn ×{multiplier} points.").format(multiplier=fmt.num(Decimal(tier.multiplier)))
        )
    if tier.perks:
        lines.append(_("Your perks: {perks}").format(perks=fmt.name(tier.perks)))
    lines.append(_("/balance shows your card."))
    return Outgoing("\n".join(lines))


@notice("tier_demoted")
def _tier_demoted(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    tiers = ctx.program.tiers
    previous = min(int(payload["from"]), len(tiers) - 1)
    missing = max(0, tiers[previous].threshold - int(payload.get("earned", 0)))
    text = _(
        "Your tier is now {tier}. Earn {points} to be {previous} again: every purchase brings you closer."
    ).format(tier=tier_name(ctx, int(payload["tier"]), fmt), points=fmt.points(missing),
             previous=fmt.name(tiers[previous].name))
    return Outgoing(text)


@notice("points_expiring")
def _points_expiring(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    first = datetime.fromisoformat(payload["first"])
    text = _("⏳ {points} of yours expire soon, the first on {date}. Turn them into a reward: /rewards").format(
        points=fmt.points(int(payload["points"])), date=fmt.date(first)
    )
    return Outgoing(text)


@notice("points_expired")
def _points_expired(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    text = _("⌛ {points} reached their expiry date and expired. Your balance is {balance}.").format(
        points=fmt.points(int(payload["points"])), balance=fmt.points(int(payload["balance"]))
    )
    return Outgoing(text)


def create_router() -> Router:
    router = Router(name="balance")
    router.message.register(show_balance, Command("balance"))
    return router
