"""The Mini App's words and numbers (SPEC §10): the chat's renderers, as JSON.

The HTTP layer (`bot/http/miniapp.py`) authenticates the request and calls
this presenter, which runs the same services as the chat and formats their
results with the same `Fmt` (digits, calendar) and the same gettext catalogs,
in the member's language. Sentences shared with the chat are rendered by the
chat's own functions and handed over as plain text (`plain`: the chat's HTML
without its tags, entities decoded); the page puts every string in with
`textContent`, so a name a member typed is never markup.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import segno
from aiogram import Bot
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import DomainError
from bot.domain.kpis import parse_days
from bot.domain.program import pick_text
from bot.domain.referrals import invite_link, share_link
from bot.domain.rewards import Availability
from bot.i18n import RTL, telegram_language
from bot.services import history, points, referrals, reports, rewards, vouchers
from bot.telegram.errors import describe
from bot.telegram.i18n import CatalogI18n
from bot.telegram.render import Fmt
from bot.telegram.reward_text import days, description, last_day, reward_name, what_it_is, when
from bot.telegram.routers.balance import stamp_lines
from bot.telegram.routers.history import entry_label, stamp_label
from bot.telegram.routers.insights import stats_chart, stats_text
from bot.telegram.routers.referrals import invite_text, share_message
from bot.telegram.routers.rewards import status_text
from bot.telegram.routers.staff import member_label

MEMBER_LINK = re.compile(r"^https?://t\.me/[A-Za-z0-9_]{3,64}\?start=m-([A-Za-z0-9]{3,16})$")
_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """The chat's HTML as text: tags dropped, entities decoded (the page escapes it again)."""
    return html.unescape(_TAG.sub("", text))


def qr_svg(text: str) -> str:
    """A QR code as an SVG data URI (no image library on the page)."""
    return str(segno.make(text, error="m", micro=False).svg_data_uri(scale=8, border=4))


def member_ref(text: str) -> str:
    """What a cashier scanned or typed: a member code, `…?start=m-<code>`, or any /award reference."""
    text = text.strip()
    found = MEMBER_LINK.match(text)
    if found:
        return found.group(1)
    if text.lower().startswith("m-") and 3 <= len(text) <= 18:
        return text[2:]
    return text


def ui_strings() -> dict[str, str]:
    """The page's own labels, in the current locale."""
    return {
        "card": _("Card"),
        "rewards": _("Rewards"),
        "history": _("History"),
        "invite": _("Invite"),
        "cashier": _("Cashier"),
        "stats": _("Stats"),
        "balance": _("Balance"),
        "tier": _("Tier"),
        "member_code": _("Member code"),
        "redeem": _("Redeem"),
        "confirm_redeem": _("Yes, redeem"),
        "back": _("Back"),
        "voucher": _("Your voucher"),
        "older": _("Older"),
        "newer": _("Newer"),
        "share": _("Share my link"),
        "scan_member": _("Scan the member's QR"),
        "member_field": _("Member (code, @username or phone)"),
        "amount_field": _("Amount of the purchase"),
        "award": _("Record the purchase"),
        "scan_voucher": _("Scan a voucher"),
        "voucher_field": _("Voucher code"),
        "redeem_voucher": _("Use the voucher"),
        "loading": _("Loading…"),
        "failed": _("Sorry, something went wrong on our side. Please try again in a moment."),
        "outside": _("This page is the shop's Mini App: open it from the bot's menu button in Telegram."),
        "demo": _("Demo: you are outside Telegram, viewing this page as a member would inside it."),
        "no_scanner": _("This Telegram app cannot scan QR codes: type the code instead."),
    }


@dataclass(frozen=True)
class Viewer:
    user_id: int
    member: Any | None
    role: str  # owner | staff | customer
    lang: str

    @property
    def is_staff(self) -> bool:
        return self.role in ("owner", "staff")


class MiniAppPresenter:
    """What `bot.http.miniapp` needs: viewers, views and localized refusals."""

    def __init__(self, ctx: Any, i18n: CatalogI18n, bot: Bot) -> None:
        self.ctx, self.i18n, self.bot = ctx, i18n, bot

    def fmt(self, lang: str) -> Fmt:
        return Fmt(lang, self.ctx.program.display, self.ctx.zone)

    @contextmanager
    def locale(self, lang: str) -> Iterator[Fmt]:
        with self.i18n.context(), self.i18n.use_locale(lang):
            yield self.fmt(lang)

    def language(self, code: str | None) -> str:
        return telegram_language(code, self.ctx.settings.default_language)

    async def viewer(self, user_id: int, language_code: str | None) -> Viewer:
        async with self.ctx.uow(readonly=True) as uow:
            member = await uow.members.by_telegram_id(user_id)
            if user_id in self.ctx.owners:
                role = "owner"
            elif await uow.staff.is_staff(user_id):
                role = "staff"
            else:
                role = "customer"
        if member is not None and member.forgotten_at is not None:
            member = None
        lang = member.language if member is not None else self.language(language_code)
        return Viewer(user_id, member, role, lang)

    # -- refusals -------------------------------------------------------------------
    def describe(self, lang: str, error: DomainError) -> str:
        with self.locale(lang) as fmt:
            return plain(describe(error, fmt))

    def staff_only(self, lang: str) -> str:
        with self.locale(lang):
            return _("This screen is for the shop's staff.")

    def owner_only(self, lang: str) -> str:
        with self.locale(lang):
            return _("This screen is for the shop's owner.")

    def ui(self, lang: str) -> dict[str, Any]:
        with self.locale(lang):
            return {"lang": lang, "dir": "rtl" if lang in RTL else "ltr", "strings": ui_strings()}

    async def _username(self) -> str:
        me = await self.bot.me()
        return me.username or ""

    # -- member screens ---------------------------------------------------------------
    async def me(self, viewer: Viewer) -> dict[str, Any]:
        card = await points.balance_card(self.ctx, viewer.member)
        username = await self._username()
        member, standing = card.member, card.standing
        program = self.ctx.program
        with self.locale(viewer.lang) as fmt:
            out: dict[str, Any] = {
                **self.ui(viewer.lang),
                "role": viewer.role,
                "merchant": pick_text(program.name, fmt.lang),
                "code": member.code,
                "first_name": member.first_name,
                "language": member.language,
                "balance": member.balance,
                "balance_text": fmt.points(member.balance),
                "balance_number": fmt.num(member.balance),
                "tier": pick_text(standing.tier.name, fmt.lang),
                "tier_index": member.tier,
                "progress": round(float(standing.progress), 4),
                "perks": plain(_("🎁 Your perks: {perks}").format(perks=fmt.name(standing.tier.perks)))
                if standing.tier.perks else None,
                "qr": qr_svg(f"https://t.me/{username}?start=m-{member.code}"),
                "hint": _("Show the QR code to the cashier to collect points."),
            }
            if standing.next_tier is not None:
                out["next_tier"] = pick_text(standing.next_tier.name, fmt.lang)
                out["progress_text"] = plain(
                    _("{bar} {points} more to reach {tier}").format(
                        bar="", points=fmt.points(standing.points_to_next), tier=fmt.name(standing.next_tier.name)
                    )
                ).strip()
            else:
                out["next_tier"] = None
                out["progress_text"] = _("You are in our top tier. Thank you!")
            out["expiring"] = None
            if card.expiring and card.expiring_from is not None:
                out["expiring"] = plain(
                    _("⏳ {points} expire within {days}, the first on {date}.").format(
                        points=fmt.points(card.expiring), days=days(fmt, program.expiry.soon_days),
                        date=fmt.date(card.expiring_from),
                    )
                )
            out["campaign"] = None
            if card.campaign is not None:
                out["campaign"] = plain(
                    _("🔥 Campaign: ×{multiplier} points on purchases until {until}.").format(
                        multiplier=fmt.num(Decimal(card.campaign.multiplier)), until=when(fmt, card.campaign.ends_at)
                    )
                )
            out["stamps"] = None
            if card.stamps is not None:
                out["stamps"] = {
                    "on_card": card.stamps.on_card,
                    "every": card.stamps.every,
                    "lines": [plain(line) for line in stamp_lines(self.ctx, card.stamps, fmt)],
                }
        return out

    async def rewards(self, viewer: Viewer) -> dict[str, Any]:
        shown = await rewards.catalog(self.ctx, viewer.member)
        items = []
        for item in shown.items:
            token = None
            if item.state is Availability.AVAILABLE:
                token = (await rewards.offer(self.ctx, viewer.user_id, item.reward.id)).token
            items.append((item, token))
        balance = shown.member.balance
        with self.locale(viewer.lang) as fmt:
            listed = []
            for item, token in items:
                reward = item.reward
                about = description(reward, fmt)
                listed.append({
                    "id": reward.id,
                    "name": plain(reward_name(reward.name, fmt)),
                    "description": plain(about) if about else None,
                    "what": plain(what_it_is(reward, self.ctx, fmt)),
                    "cost": reward.cost,
                    "cost_text": fmt.points(reward.cost),
                    "affordable": token is not None,
                    "status": plain(status_text(self.ctx, item, balance, fmt)),
                    "confirm": plain(
                        _("Cost: {cost} · your balance after: {balance}").format(
                            cost=fmt.points(reward.cost), balance=fmt.points(balance - reward.cost)
                        )
                        + "\n"
                        + _("The voucher is valid for {days}.").format(days=days(fmt, reward.valid_days))
                    ),
                    "token": token,
                })
            owned = await rewards.my_vouchers(self.ctx, shown.member)
            return {
                "balance": balance,
                "balance_text": fmt.points(balance),
                "title": plain(_("🎁 <b>Rewards</b> · your balance: {points}").format(points=fmt.points(balance))),
                "empty": _("There are no rewards on offer right now. Keep collecting points!") if not listed else None,
                "rewards": listed,
                "vouchers": [self._voucher(v.voucher, v.reward, fmt) for v in owned],
            }

    def _voucher(self, voucher: Any, reward: Any, fmt: Fmt) -> dict[str, Any]:
        return {
            "code": voucher.code,
            "reward": plain(reward_name(reward.name if reward else None, fmt)),
            "valid_until": plain(_("Valid until: {date}").format(date=last_day(fmt, voucher.expires_at))),
            "hint": _("Show this code or the QR to the cashier. It can be used once."),
            "qr": qr_svg(voucher.code),
        }

    async def redeem(self, viewer: Viewer, reward_id: int, token: str) -> dict[str, Any]:
        done = await rewards.redeem(self.ctx, viewer.user_id, token, reward_id=reward_id)
        with self.locale(viewer.lang) as fmt:
            return {
                "voucher": self._voucher(done.voucher, done.reward, fmt),
                "balance": done.member.balance,
                "balance_text": fmt.points(done.member.balance),
                "message": plain(
                    _("✅ Redeemed: {reward}. Your voucher is below.").format(
                        reward=reward_name(done.reward.name, fmt)
                    )
                ),
            }

    async def history(self, viewer: Viewer, *, before: int | None, after: int | None) -> dict[str, Any]:
        member = viewer.member
        assert member is not None  # the history route is for members only
        page = await history.history_page(self.ctx, member, before=before, after=after)
        with self.locale(viewer.lang) as fmt:
            return {
                "balance_text": fmt.points(member.balance),
                "empty": _("No points yet. They will show up here after your first purchase.")
                if not page.entries and not page.stamps else None,
                "entries": [
                    {
                        "id": entry.id,
                        "date": fmt.date(entry.created_at),
                        "delta": entry.delta,
                        "delta_text": ("+" if entry.delta > 0 else "−") + fmt.num(abs(entry.delta)),
                        "label": plain(entry_label(entry, page, fmt, self.ctx)),
                    }
                    for entry in page.entries
                ],
                "stamps": [
                    {"date": fmt.date(s.created_at), "delta_text": ("+" if s.delta > 0 else "−") + fmt.num(abs(s.delta)),
                     "label": stamp_label(s)}
                    for s in page.stamps
                ],
                "older": page.last_id if page.has_older else None,
                "newer": page.first_id if page.has_newer else None,
            }

    async def invite(self, viewer: Viewer) -> dict[str, Any]:
        card = await referrals.invite_card(self.ctx, viewer.member)
        link = invite_link(await self._username(), card.member.code)
        with self.locale(viewer.lang) as fmt:
            return {
                "link": link,
                "share_url": share_link(link, share_message(self.ctx, card, fmt)),
                "text": [line for line in plain(invite_text(self.ctx, card, link, fmt)).split("\n")
                         if line.strip() and link not in line],
                "joined": card.joined,
            }

    # -- staff screens ------------------------------------------------------------------
    async def award(self, viewer: Viewer, member_text: str, amount_text: str, key: str) -> tuple[dict[str, Any], bool]:
        result = await points.award_purchase(
            self.ctx, actor_id=viewer.user_id, member_text=member_ref(member_text), amount_text=amount_text,
            note=None, key=key,
        )
        with self.locale(viewer.lang) as fmt:
            who = member_label(result.member, fmt)
            purchase = fmt.money(result.amount, self.ctx.program.currency)
            if result.duplicate:
                text = _("This purchase was already recorded: {points} to {member} for {amount}. Nothing was added.")
            else:
                text = _("✅ {points} to {member} for a purchase of {amount}.")
            message = text.format(points=fmt.points(result.points), member=who, amount=purchase)
            message += "\n" + _("New balance: {balance}.").format(balance=fmt.points(result.balance))
            body = {
                "member": result.member.code,
                "points": result.points,
                "balance": result.balance,
                "message": plain(message),
            }
        return body, result.duplicate

    async def redeem_voucher(self, viewer: Viewer, code: str, key: str) -> dict[str, Any]:
        result = await vouchers.redeem_voucher(self.ctx, staff_id=viewer.user_id, text=code.strip(), key=key,
                                               via="miniapp")
        with self.locale(viewer.lang) as fmt:
            lines = [
                _("✅ Voucher {code} is valid and is now marked as used.").format(code=fmt.code(result.code)),
                reward_name(result.reward.name if result.reward else None, fmt)
                + (f" · {what_it_is(result.reward, self.ctx, fmt)}" if result.reward else ""),
            ]
            if result.member is not None:
                lines.append(member_label(result.member, fmt))
            lines.append(_("Hand over the reward. This voucher cannot be used again."))
            return {
                "code": result.code,
                "member": result.member.code if result.member is not None else None,
                "reward": plain(reward_name(result.reward.name if result.reward else None, fmt)),
                "duplicate": result.duplicate,
                "message": plain("\n".join(lines)),
            }

    async def stats(self, viewer: Viewer, days_text: str | None) -> dict[str, Any]:
        period = parse_days(days_text)
        stats = await reports.program_stats(self.ctx, actor_id=viewer.user_id, days=period)
        with self.locale(viewer.lang) as fmt:
            lines = [line for line in plain(stats_text(self.ctx, stats, fmt)).split("\n") if line.strip()]
            png = await stats_chart(self.ctx, stats, fmt)
        return {
            "days": period,
            "lines": lines,
            "chart": "data:image/png;base64," + base64.b64encode(png).decode(),
        }
