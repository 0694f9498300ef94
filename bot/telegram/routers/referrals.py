"""/invite: the member's personal link, a share button and what inviting earned (SPEC §3)."""
from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.domain.program import pick_text
from bot.domain.referrals import Attribution, invite_link, share_link
from bot.services import referrals
from bot.services.referrals import ReferralNote
from bot.telegram.notices import Outgoing, notice
from bot.telegram.render import Fmt, esc, isolate


def friend_name(name: str | None) -> str:
    return esc(name) if name else _("a friend")


def share_message(ctx: Any, card: referrals.InviteCard, fmt: Fmt) -> str:
    """The text a friend receives with the link, in the inviting member's language (plain text)."""
    merchant = pick_text(ctx.program.name, fmt.lang)
    if card.referee_bonus:
        return _("Join me at {merchant}: you get {points} after your first purchase.").format(
            merchant=merchant, points=fmt.points(card.referee_bonus)
        )
    return _("Join me at {merchant} and earn points on every purchase.").format(merchant=merchant)


def invite_text(ctx: Any, card: referrals.InviteCard, link: str, fmt: Fmt) -> str:
    lines = [_("🤝 <b>Invite friends to {merchant}</b>").format(merchant=fmt.name(ctx.program.name))]
    if card.referrer_bonus or card.referee_bonus:
        lines.append(
            _("Share your personal link. When a friend joins with it and makes a first purchase, "
              "you get {yours} and your friend gets {theirs}.").format(
                yours=fmt.points(card.referrer_bonus), theirs=fmt.points(card.referee_bonus)
            )
        )
    else:
        lines.append(_("Share your personal link with friends who would enjoy {merchant}.").format(
            merchant=fmt.name(ctx.program.name)
        ))
    lines += [
        "",
        f"🔗 {isolate(esc(link))}",
        "",
        _("👥 Friends who joined: {count}").format(count=fmt.num(card.joined)),
        _("🛒 Friends who made a purchase: {count}").format(count=fmt.num(card.purchased)),
        _("⭐ Earned from invitations: {points}").format(points=fmt.points(card.earned)),
    ]
    if card.monthly_cap and card.referrer_bonus:
        lines.append(
            ngettext(
                "You can be rewarded for up to {cap} friend a month; this month so far: {count}.",
                "You can be rewarded for up to {cap} friends a month; this month so far: {count}.",
                card.monthly_cap,
            ).format(cap=fmt.num(card.monthly_cap), count=fmt.num(card.rewarded_this_month))
        )
    return "\n".join(lines)


async def show_invite(message: Message, ctx: Any, fmt: Fmt, member: Any, bot: Bot) -> None:
    card = await referrals.invite_card(ctx, member)
    me = await bot.me()
    link = invite_link(me.username or "", card.member.code)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("📤 Share my link"), url=share_link(link, share_message(ctx, card, fmt)))]
        ]
    )
    await message.answer(invite_text(ctx, card, link, fmt), reply_markup=markup)


def start_note(note: ReferralNote | None, fmt: Fmt) -> str | None:
    """The line `/start ref-<code>` adds to the welcome, or None."""
    if note is None:
        return None
    if note.attribution is Attribution.ATTRIBUTED:
        if note.bonus:
            return _("🤝 You joined with {friend}'s invitation. After your first purchase you get {points} extra.").format(
                friend=friend_name(note.referrer_name), points=fmt.points(note.bonus)
            )
        return _("🤝 You joined with {friend}'s invitation.").format(friend=friend_name(note.referrer_name))
    if note.attribution is Attribution.SELF:
        return _("That is your own invitation link. Share it with friends: /invite shows it.")
    if note.attribution is Attribution.ALREADY_MEMBER:
        return _("You are already a member, so an invitation link cannot be applied to you. "
                 "Invite your own friends with /invite.")
    return None


# -- messages the bot sends on its own ---------------------------------------------
@notice("referral_joined")
def _referral_joined(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    friend = friend_name(payload.get("friend"))
    if payload.get("bonus"):
        text = _("🎉 {friend} joined with your invitation! You get {points} after their first purchase.")
    else:
        text = _("🎉 {friend} joined with your invitation. Thank you for spreading the word!")
    return Outgoing(text.format(friend=friend, points=fmt.points(payload.get("bonus") or 0)))


@notice("referral_reward")
def _referral_reward(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    friend = friend_name(payload.get("friend"))
    if payload.get("capped"):
        cap = int(payload.get("cap") or 0)
        text = ngettext(
            "{friend} made their first purchase. You have reached this month's limit of {cap} rewarded "
            "invitation, so this one earns no bonus. Thank you for spreading the word!",
            "{friend} made their first purchase. You have reached this month's limit of {cap} rewarded "
            "invitations, so this one earns no bonus. Thank you for spreading the word!",
            cap,
        ).format(friend=friend, cap=fmt.num(cap))
        return Outgoing(text)
    return Outgoing(
        _("🎁 {friend} made their first purchase: you earned {points} for the invitation. Thank you!").format(
            friend=friend, points=fmt.points(payload["points"])
        )
    )


@notice("referral_bonus")
def _referral_bonus(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing(
        _("🎁 {points} for joining with {friend}'s invitation and making your first purchase. Enjoy!").format(
            points=fmt.points(payload["points"]), friend=friend_name(payload.get("friend"))
        )
    )


def create_router() -> Router:
    router = Router(name="referrals")
    router.message.register(show_invite, Command("invite"))
    return router
