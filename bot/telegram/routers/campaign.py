"""/campaign <multiplier> <duration> and /campaign off: a time-limited points multiplier (SPEC §4)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.domain.digits import to_latin
from bot.domain.errors import DomainError
from bot.domain.ledger import command_key
from bot.services import campaigns
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsOwner
from bot.telegram.notices import Outgoing, notice
from bot.telegram.render import Fmt, esc
from bot.telegram.reward_text import days, when

OFF_WORDS = {"off", "stop", "end", "خاموش", "پایان", "توقف", "إيقاف", "ايقاف", "إنهاء", "انهاء"}


def usage() -> str:
    return esc(_("Usage: /campaign <multiplier> <duration>, e.g. /campaign 2 48h (h hours, d days, w weeks)\n"
                 "/campaign off ends the running campaign."))


async def campaign(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    assert message.from_user is not None
    args = (command.args or "").split()
    if len(args) == 1 and to_latin(args[0]).lower() in OFF_WORDS:
        await campaigns.end_campaign(ctx, actor_id=message.from_user.id)
        await message.answer(_("The campaign has ended. Purchases earn the usual points again."))
        return
    if not args:
        running = await campaigns.running_campaign(ctx)
        status = (
            _("Running now: ×{multiplier} until {until}.").format(
                multiplier=fmt.num(Decimal(running.multiplier)), until=when(fmt, running.ends_at)
            )
            if running is not None
            else _("No campaign is running.")
        )
        await message.answer(f"{status}\n\n{usage()}")
        return
    if len(args) != 2 and not (len(args) == 3 and not any(ch.isdigit() for ch in to_latin(args[2]))):
        await message.answer(usage())
        return
    started = await campaigns.start_campaign(
        ctx,
        actor_id=message.from_user.id,
        multiplier_text=args[0],
        duration_text=" ".join(args[1:]),
        key=command_key("campaign", message.chat.id, message.message_id),
    )
    multiplier = fmt.num(Decimal(started.campaign.multiplier))
    if started.duplicate:
        await message.answer(_("This campaign was already started (×{multiplier}). Nothing was changed.").format(
            multiplier=multiplier))
        return
    lines = [
        _("🔥 Campaign on: purchases earn ×{multiplier} points until {until}.").format(
            multiplier=multiplier, until=when(fmt, started.campaign.ends_at)
        )
    ]
    if started.replaced:
        lines.append(_("It replaces the campaign that was running."))
    lines.append(
        ngettext(
            "{count} member who accepts offers will be told.",
            "{count} members who accept offers will be told.",
            started.announced,
        ).format(count=fmt.num(started.announced))
    )
    await message.answer("\n".join(lines))


@describes("invalid_multiplier")
def _invalid_multiplier(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is not a valid multiplier. Send a number above 1 and at most {maximum}, e.g. 2 or 1.5.").format(
        text=echo(error.details.get("text", "")), maximum=fmt.num(Decimal(error.details["maximum"]))
    )


@describes("invalid_duration")
def _invalid_duration(error: DomainError, fmt: Fmt) -> str:
    return _(
        "{text} is not a valid duration. Use a number with h (hours), d (days) or w (weeks), "
        "from one hour up to {days}, e.g. 48h."
    ).format(text=echo(error.details.get("text", "")), days=days(fmt, error.details["max_days"]))


@describes("no_campaign")
def _no_campaign(error: DomainError, fmt: Fmt) -> str:
    return _("No campaign is running, so there is nothing to end.")


@notice("campaign_started")
def _campaign_started(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing(
        _("🔥 For a limited time every purchase at {merchant} earns ×{multiplier} points, until {until}. See you soon!")
        .format(
            merchant=fmt.name(ctx.program.name),
            multiplier=fmt.num(Decimal(payload["multiplier"])),
            until=when(fmt, datetime.fromisoformat(payload["ends_at"])),
        )
    )


def create_router() -> Router:
    router = Router(name="campaign")
    router.message.filter(IsOwner)
    router.message.register(campaign, Command("campaign"))
    return router
