"""/history: the member's points, newest first, paged with buttons (SPEC §3)."""
from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.ledger import Kind
from bot.services import history
from bot.telegram.edits import replace_message
from bot.telegram.render import Fmt, esc, isolate
from bot.telegram.reward_text import reward_name


class HistoryPageData(CallbackData, prefix="hst"):
    older: bool  # True: entries before `pivot`; False: entries after it
    pivot: int
    page: int


def entry_label(entry: Any, page: history.HistoryPage, fmt: Fmt, ctx: Any) -> str:
    kind = entry.kind
    if kind == Kind.PURCHASE:
        if entry.amount is not None:
            return _("🛒 Purchase of {amount}").format(amount=fmt.money(entry.amount, ctx.program.currency))
        return _("🛒 Purchase")
    if kind == Kind.REDEEM:
        reward = page.rewards.get(entry.note or "")
        return _("🎁 Reward: {reward}").format(reward=reward_name(reward.name if reward else None, fmt))
    if kind == Kind.REFUND:
        return _("↩️ Points back from an unused voucher")
    if kind == Kind.ADJUST:
        return _("✏️ Correction: {reason}").format(reason=esc(entry.note or "—"))
    if kind == Kind.REVERSAL:
        return _("↩️ Refund: points of the purchase taken back")
    if kind == Kind.ACTION:
        action = ctx.program.action(entry.note or "")
        return "🎯 " + (fmt.name(action.name) if action else esc(entry.note or "—"))
    labels = {
        Kind.MILESTONE: _("🏆 Milestone"),
        Kind.TIER_BONUS: _("🎁 Tier welcome gift"),
        Kind.SIGNUP: _("🎉 Welcome bonus"),
        Kind.PROFILE: _("📝 Profile bonus"),
        Kind.BIRTHDAY: _("🎂 Birthday bonus"),
        Kind.REFERRAL: _("🤝 Referral bonus"),
        Kind.SURVEY: _("💬 Thanks for your feedback"),
        Kind.WINBACK: _("👋 Welcome-back bonus"),
        Kind.EXPIRE: _("⌛ Expired points"),
        Kind.GOODWILL: _("💐 With our apologies"),
        Kind.SURPRISE: _("🎁 A surprise, just because"),
    }
    return labels.get(kind, _("Other"))


def stamp_label(entry: Any) -> str:
    return {
        "stamp": _("new stamps"),
        "card": _("a full card, turned into a voucher"),
        "expire": _("expired stamps"),
    }.get(entry.kind, _("Other"))


def signed(delta: int, fmt: Fmt) -> str:
    return isolate(("+" if delta > 0 else "−") + fmt.num(abs(delta)))


def page_view(ctx: Any, member: Any, page: history.HistoryPage, fmt: Fmt) -> tuple[str, InlineKeyboardMarkup | None]:
    if not page.entries and not page.stamps:
        return _("No points yet. They will show up here after your first purchase."), None
    lines = [
        _("📜 <b>Your points history</b> · page {page}").format(page=fmt.num(page.page)),
        _("Balance: {points}").format(points=fmt.points(member.balance)),
        "",
    ]
    for entry in page.entries:
        lines.append(f"{fmt.date(entry.created_at)} · {signed(entry.delta, fmt)} · {entry_label(entry, page, fmt, ctx)}")
    if page.stamps:
        lines += ["", _("☕ <b>Stamps</b> (newest first)")]
        for stamp in page.stamps:
            lines.append(f"{fmt.date(stamp.created_at)} · {signed(stamp.delta, fmt)} · {stamp_label(stamp)}")
    row = []
    if page.has_newer and page.first_id is not None:
        row.append(InlineKeyboardButton(
            text=_("🔼 Newer"),
            callback_data=HistoryPageData(older=False, pivot=page.first_id, page=max(1, page.page - 1)).pack(),
        ))
    if page.has_older and page.last_id is not None:
        row.append(InlineKeyboardButton(
            text=_("🔽 Older"),
            callback_data=HistoryPageData(older=True, pivot=page.last_id, page=page.page + 1).pack(),
        ))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


async def show_history(message: Message, ctx: Any, fmt: Fmt, member: Any) -> None:
    page = await history.history_page(ctx, member)
    text, keyboard = page_view(ctx, member, page, fmt)
    await message.answer(text, reply_markup=keyboard)


async def turn_page(query: CallbackQuery, callback_data: HistoryPageData, ctx: Any, fmt: Fmt, member: Any, bot: Bot) -> None:
    kwargs = {"before": callback_data.pivot} if callback_data.older else {"after": callback_data.pivot}
    page = await history.history_page(ctx, member, page=callback_data.page, **kwargs)
    text, keyboard = page_view(ctx, member, page, fmt)
    await query.answer()
    await replace_message(query, bot, text, keyboard)


def create_router() -> Router:
    router = Router(name="history")
    router.message.register(show_history, Command("history"))
    router.callback_query.register(turn_page, HistoryPageData.filter())
    return router
