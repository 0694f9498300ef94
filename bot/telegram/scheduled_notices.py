"""Messages the jobs and broadcasts put in the outbox, rendered at send time
in the recipient's language: birthday greetings, win-back, broadcasts and
the owner's broadcast report."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.domain.delivery import DeliveryStatus, fill_placeholders
from bot.telegram.notices import Outgoing, notice, notice_data
from bot.telegram.render import Fmt, esc


def _name(payload: dict[str, Any]) -> str:
    return esc(payload.get("first_name") or "") or _("friend")


def opt_out_line() -> str:
    return _("Offers not for you? Send /notifications to turn them off.")


@notice("birthday")
def _birthday(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    merchant = fmt.name(ctx.program.name)
    if payload.get("bonus"):
        text = _(
            "🎂 Happy birthday, {name}! {merchant} celebrates with you: {points} are in your account as our gift. "
            "Your balance is {balance}."
        ).format(
            name=_name(payload), merchant=merchant, points=fmt.points(payload["bonus"]),
            balance=fmt.points(payload["balance"]),
        )
    else:
        text = _("🎂 Happy birthday, {name}! Everyone at {merchant} wishes you a wonderful day.").format(
            name=_name(payload), merchant=merchant
        )
    return Outgoing(text)


@notice("winback")
def _winback(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    merchant = fmt.name(ctx.program.name)
    if payload.get("bonus"):
        text = _(
            "👋 We miss you, {name}! It has been a while since your last visit to {merchant}. "
            "Here are {points} to welcome you back: your balance is now {balance}."
        ).format(
            name=_name(payload), merchant=merchant, points=fmt.points(payload["bonus"]),
            balance=fmt.points(payload["balance"]),
        )
    else:
        text = _(
            "👋 We miss you, {name}! It has been a while since your last visit to {merchant}. "
            "Your balance of {balance} is waiting for you."
        ).format(name=_name(payload), merchant=merchant, balance=fmt.points(payload["balance"]))
    return Outgoing(f"{text}\n\n{opt_out_line()}")


def pick_text(texts: dict[str, str], lang: str) -> str:
    """The owner's text for `lang`: its own, else the one for all, else English, else any."""
    return texts.get(lang) or texts.get("*") or texts.get("en") or next(iter(texts.values()))


def personalise(text: str, fmt: Fmt, first_name: str | None, points: int) -> str:
    """Fill `{first_name}` and `{points}`; any other brace the owner typed stays as it is."""
    name = esc(first_name) if first_name else _("friend")
    return fill_placeholders(text, {"first_name": name, "points": fmt.points(points)})


@notice_data("broadcast")
async def _broadcast_data(uow: Any, row: Any, recipient: Any) -> dict[str, Any]:
    broadcast = await uow.broadcasts.by_id_once(row.payload["broadcast"])
    return {
        "texts": broadcast.texts,
        "photo": broadcast.photo,
        "first_name": recipient.first_name if recipient is not None else None,
        "points": recipient.balance if recipient is not None else 0,
    }


@notice("broadcast")
def _broadcast(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    text = personalise(pick_text(payload["texts"], fmt.lang), fmt, payload.get("first_name"), payload["points"])
    return Outgoing(f"{text}\n\n{opt_out_line()}", photo_id=payload.get("photo"))


def report_lines(report: dict[str, Any], fmt: Fmt) -> list[str]:
    return [
        _("✅ Delivered: {count}").format(count=fmt.num(report.get(DeliveryStatus.SENT, 0))),
        _("🔕 Not sent, no consent to offers: {count}").format(count=fmt.num(report.get(DeliveryStatus.OPTED_OUT, 0))),
        _("🚫 Not sent, they blocked the bot: {count}").format(count=fmt.num(report.get(DeliveryStatus.BLOCKED, 0))),
        _("⚠️ Failed: {count}").format(count=fmt.num(report.get(DeliveryStatus.FAILED, 0))),
        _("❔ Unknown (the bot stopped mid-send; never sent twice): {count}").format(
            count=fmt.num(report.get(DeliveryStatus.UNKNOWN, 0))
        ),
    ]


@notice("broadcast_report")
def _broadcast_report(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    title = _("📣 Broadcast #{number} is done. Members in the segment: {audience}.").format(
        number=fmt.num(payload["broadcast"]), audience=fmt.num(payload.get("audience", 0))
    )
    lines = [title, *report_lines(payload, fmt)]
    if "star_tenths" in payload:
        stars = (Decimal(int(payload["star_tenths"])) / 10).quantize(Decimal("0.1"))
        lines.append(
            _("⭐ Paid broadcast: it may cost about {stars} Telegram Stars (0.1 Star for each message "
              "beyond Telegram's free 30 a second).").format(stars=fmt.num(stars))
        )
    return Outgoing("\n".join(lines))
