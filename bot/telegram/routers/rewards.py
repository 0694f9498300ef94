"""/rewards: the catalog, redeem in two taps (reward → confirm), and the member's vouchers (SPEC §3).

Rewards with the owner's photo: the first `PHOTO_CARDS` of them the member
can see (those ready to redeem first, then by cost) come as photo messages
above the catalog, each with its caption (name, cost, what it is) and its
redeem button; the catalog list after them names every reward, a 🖼 marking
those with a photo. Tapping a photo reward shows its offer with the photo, so
no picture is out of reach however many there are. Photos go by Telegram's
file_id (stored by /rewards_admin); one Telegram no longer knows (a new bot
token) is left out and the text stands alone. The Mini App lists rewards
without their photos.

Every button is checked again when pressed: a reward that was paused, sold
out or became unaffordable since the menu was drawn is refused with the
reason. The confirmation button carries a one-time token, so a double tap or
an old confirmation never spends twice.
"""
from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import DomainError
from bot.domain.rewards import Availability, early_access_ends
from bot.services import rewards
from bot.telegram.edits import replace_message
from bot.telegram.errors import describes
from bot.telegram.notices import Outgoing, notice
from bot.telegram.photos import refused_file, send_picture
from bot.telegram.qr import qr_card
from bot.telegram.render import Fmt
from bot.telegram.reward_text import days, description, last_day, reward_name, tier_name, what_it_is, when

SHOWN = 30  # rewards listed at most (a message holds 4096 characters)
PHOTO_CARDS = 3  # rewards shown as their own photo message above the list, at most
BUTTON_NAME = 40

log = logging.getLogger(__name__)


class RewardPick(CallbackData, prefix="rwp"):
    reward: int


class RewardConfirm(CallbackData, prefix="rwc"):
    token: str


class RewardBack(CallbackData, prefix="rwb"):
    pass


class VoucherList(CallbackData, prefix="rwl"):
    pass


class VoucherShow(CallbackData, prefix="rwv"):
    voucher: int


# -- the catalog ------------------------------------------------------------------------


def catalog_view(ctx: Any, shown: rewards.Catalog, fmt: Fmt) -> tuple[str, InlineKeyboardMarkup | None]:
    member = shown.member
    lines = [_("🎁 <b>Rewards</b> · your balance: {points}").format(points=fmt.points(member.balance)), ""]
    buttons: list[list[InlineKeyboardButton]] = []
    for item in shown.items[:SHOWN]:
        reward = item.reward
        head = f"{'🖼 ' if reward.photo else ''}<b>{reward_name(reward.name, fmt)}</b> — {fmt.points(reward.cost)}"
        lines.append(f"• {head} · {status_text(ctx, item, member.balance, fmt)}")
        if item.state is Availability.AVAILABLE:
            buttons.append([pick_button(reward, fmt)])
    if not shown.items:
        lines.append(_("There are no rewards on offer right now. Keep collecting points!"))
    elif buttons:
        lines += ["", _("Tap a reward to redeem it.")]
    else:
        lines += ["", _("Keep collecting points: every purchase brings a reward closer.")]
    if shown.active_vouchers:
        buttons.append(
            [
                InlineKeyboardButton(
                    text=_("🎟 My vouchers ({count})").format(count=fmt.num(shown.active_vouchers)),
                    callback_data=VoucherList().pack(),
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None


def status_text(ctx: Any, item: rewards.CatalogItem, balance: int, fmt: Fmt) -> str:
    reward = item.reward
    if item.state is Availability.AVAILABLE:
        return _("✅ ready to redeem")
    if item.state is Availability.LOCKED:
        opens = early_access_ends(reward)
        if opens is not None:
            return _("🔒 early access for {tier} members; open to everyone from {when}").format(
                tier=tier_name(ctx, reward.min_tier, fmt), when=when(fmt, opens)
            )
        return _("🔒 for {tier} members and above").format(tier=tier_name(ctx, reward.min_tier, fmt))
    if item.state is Availability.SOLD_OUT:
        return _("sold out")
    if item.state is Availability.LIMIT_REACHED:
        return _("you have redeemed it the most times allowed")
    return _("{points} more to go").format(points=fmt.points(reward.cost - balance))


def _short(text: str) -> str:
    return text if len(text) <= BUTTON_NAME else text[: BUTTON_NAME - 1] + "…"


def photo_cards(shown: rewards.Catalog) -> list[rewards.CatalogItem]:
    """The rewards shown with their photo above the list: ready ones first, then by cost."""
    with_photo = [item for item in shown.items[:SHOWN] if item.reward.photo]
    with_photo.sort(key=lambda item: item.state is not Availability.AVAILABLE)  # stable: cost order kept
    return with_photo[:PHOTO_CARDS]


def photo_caption(ctx: Any, item: rewards.CatalogItem, balance: int, fmt: Fmt) -> str:
    reward = item.reward
    lines = [f"🎁 <b>{reward_name(reward.name, fmt)}</b> — {fmt.points(reward.cost)}"]
    about = description(reward, fmt)
    if about:
        lines.append(f"<i>{about}</i>")
    lines += [what_it_is(reward, ctx, fmt), status_text(ctx, item, balance, fmt)]
    return "\n".join(lines)


def pick_button(reward: Any, fmt: Fmt) -> InlineKeyboardButton:
    label = f"🎁 {_short(reward_name(reward.name, fmt))} · {fmt.points(reward.cost)}"
    return InlineKeyboardButton(text=label, callback_data=RewardPick(reward=reward.id).pack())


async def send_reward_photo(bot: Bot, chat_id: int, file_id: str, caption: str, keyboard: Any) -> bool:
    """The reward's photo by file_id; False when Telegram no longer knows it (the text stands alone)."""
    try:
        await bot.send_photo(chat_id, file_id, caption=caption, reply_markup=keyboard)
    except TelegramBadRequest as exc:
        if not refused_file(exc):
            raise
        log.warning("Telegram refused a reward photo (%s); shown without it", exc.message)
        return False
    return True


async def show_rewards(message: Message, ctx: Any, fmt: Fmt, member: Any) -> None:
    shown = await rewards.catalog(ctx, member)
    bot = message.bot
    assert bot is not None  # a message from an update always has its bot
    for item in photo_cards(shown):
        keyboard = (
            InlineKeyboardMarkup(inline_keyboard=[[pick_button(item.reward, fmt)]])
            if item.state is Availability.AVAILABLE else None
        )
        caption = photo_caption(ctx, item, shown.member.balance, fmt)
        await send_reward_photo(bot, message.chat.id, item.reward.photo, caption, keyboard)
    text, keyboard = catalog_view(ctx, shown, fmt)
    await message.answer(text, reply_markup=keyboard)


async def back_to_rewards(query: CallbackQuery, ctx: Any, fmt: Fmt, member: Any, bot: Bot) -> None:
    text, keyboard = catalog_view(ctx, await rewards.catalog(ctx, member), fmt)
    await query.answer()
    await replace_message(query, bot, text, keyboard)


# -- redeeming ---------------------------------------------------------------------------


async def pick(query: CallbackQuery, callback_data: RewardPick, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    offer = await rewards.offer(ctx, query.from_user.id, callback_data.reward)
    reward = offer.reward
    lines = [f"🎁 <b>{reward_name(reward.name, fmt)}</b>"]
    about = description(reward, fmt)
    if about:
        lines.append(f"<i>{about}</i>")
    lines += [
        what_it_is(reward, ctx, fmt),
        _("Cost: {cost} · your balance after: {balance}").format(
            cost=fmt.points(reward.cost), balance=fmt.points(offer.member.balance - reward.cost)
        ),
        _("The voucher is valid for {days}.").format(days=days(fmt, reward.valid_days)),
        "",
        _("Redeem it now?"),
    ]
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("✅ Yes, redeem"), callback_data=RewardConfirm(token=offer.token).pack()),
                InlineKeyboardButton(text=_("↩️ Back"), callback_data=RewardBack().pack()),
            ]
        ]
    )
    await query.answer()
    if reward.photo and await send_reward_photo(bot, query.from_user.id, reward.photo, "\n".join(lines), keyboard):
        return
    await replace_message(query, bot, "\n".join(lines), keyboard)


async def confirm(query: CallbackQuery, callback_data: RewardConfirm, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    done = await rewards.redeem(ctx, query.from_user.id, callback_data.token)
    await query.answer(_("Done! Here is your voucher."))
    if isinstance(query.message, Message) and query.message.photo:  # a photo offer: its buttons are spent
        await query.message.edit_reply_markup(reply_markup=None)
    await replace_message(
        query, bot, _("✅ Redeemed: {reward}. Your voucher is below.").format(reward=reward_name(done.reward.name, fmt)), None
    )
    await send_voucher(bot, ctx, query.from_user.id, done.voucher, done.reward, fmt, balance=done.member.balance)


async def send_voucher(
    bot: Bot, ctx: Any, chat_id: int, voucher: Any, reward: Any, fmt: Fmt, *, balance: int | None = None
) -> None:
    lines = [
        _("🎟 <b>Voucher: {reward}</b>").format(reward=reward_name(reward.name if reward else None, fmt)),
        _("Code: {code}").format(code=fmt.code(voucher.code)),
        _("Valid until: {date}").format(date=last_day(fmt, voucher.expires_at)),
        _("Show this code or the QR to the cashier. It can be used once."),
    ]
    if balance is not None:
        lines.append(_("Your balance: {points}").format(points=fmt.points(balance)))
    await send_picture(bot, ctx, chat_id, qr_card(voucher.code), kind="qr", filename=f"voucher-{voucher.code}.png",
                       caption="\n".join(lines))


# -- the member's vouchers ------------------------------------------------------------------


async def list_vouchers(query: CallbackQuery, ctx: Any, fmt: Fmt, member: Any, bot: Bot) -> None:
    owned = await rewards.my_vouchers(ctx, member)
    await query.answer()
    if not owned:
        await bot.send_message(query.from_user.id, _("You have no vouchers to use right now. /rewards shows what you can get."))
        return
    lines = [_("🎟 <b>Your vouchers</b>")]
    buttons = []
    for item in owned:
        name = reward_name(item.reward.name if item.reward else None, fmt)
        lines.append(
            _("• {reward}: {code}, valid until {date}").format(
                reward=name, code=fmt.code(item.voucher.code), date=last_day(fmt, item.voucher.expires_at)
            )
        )
        buttons.append(
            [InlineKeyboardButton(text=_("Show the QR: {reward}").format(reward=_short(name)),
                                  callback_data=VoucherShow(voucher=item.voucher.id).pack())]
        )
    await bot.send_message(
        query.from_user.id, "\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons)
    )


async def show_voucher(query: CallbackQuery, callback_data: VoucherShow, ctx: Any, fmt: Fmt, member: Any, bot: Bot) -> None:
    owned = await rewards.voucher_of(ctx, member, callback_data.voucher)
    await query.answer()
    await send_voucher(bot, ctx, query.from_user.id, owned.voucher, owned.reward, fmt)


# -- errors and notices -----------------------------------------------------------------------


@describes("reward_unavailable")
def _unavailable(error: DomainError, fmt: Fmt) -> str:
    return _("This reward is not on offer any more. Nothing was changed; open /rewards again.")


@describes("reward_locked")
def _locked(error: DomainError, fmt: Fmt) -> str:
    return _("This reward is for {tier} members and above. Nothing was changed.").format(
        tier=reward_name(error.details.get("name"), fmt)
    )


@describes("reward_sold_out")
def _sold_out(error: DomainError, fmt: Fmt) -> str:
    return _("Sorry, this reward is sold out. Nothing was changed.")


@describes("reward_limit_reached")
def _limit(error: DomainError, fmt: Fmt) -> str:
    return _("You have already redeemed this reward the most times allowed ({limit}). Nothing was changed.").format(
        limit=fmt.num(error.details.get("limit") or 0)
    )


@describes("reward_changed")
def _changed(error: DomainError, fmt: Fmt) -> str:
    return _("The cost of this reward changed to {cost}. Nothing was changed; open /rewards again.").format(
        cost=fmt.points(error.details["cost"])
    )


@describes("offer_expired")
def _offer_expired(error: DomainError, fmt: Fmt) -> str:
    return _("This confirmation has timed out. Nothing was changed; open /rewards again.")


@describes("already_redeemed")
def _already(error: DomainError, fmt: Fmt) -> str:
    return _("You already confirmed this: your voucher is in /rewards under My vouchers. No points were taken twice.")


@describes("voucher_not_yours")
def _not_yours(error: DomainError, fmt: Fmt) -> str:
    return _("That voucher is not one of yours. Nothing was changed.")


@notice("voucher_used")
def _voucher_used(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing(
        _("✅ Your voucher {code} for {reward} was just used. Enjoy!").format(
            code=fmt.code(payload["code"]), reward=reward_name(payload.get("reward_name"), fmt)
        )
    )


@notice("voucher_expired")
def _voucher_expired(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    text = _("Your voucher {code} for {reward} expired unused.").format(
        code=fmt.code(payload["code"]), reward=reward_name(payload.get("reward_name"), fmt)
    )
    if payload.get("refunded"):
        text += "\n" + _("We gave back its {points}. Your balance is {balance}.").format(
            points=fmt.points(int(payload["refunded"])), balance=fmt.points(int(payload["balance"]))
        )
    return Outgoing(text)


def create_router() -> Router:
    router = Router(name="rewards")
    router.message.register(show_rewards, Command("rewards"))
    router.callback_query.register(pick, RewardPick.filter())
    router.callback_query.register(confirm, RewardConfirm.filter())
    router.callback_query.register(back_to_rewards, RewardBack.filter())
    router.callback_query.register(list_vouchers, VoucherList.filter())
    router.callback_query.register(show_voucher, VoucherShow.filter())
    return router
