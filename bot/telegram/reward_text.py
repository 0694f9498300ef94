"""Words for rewards, vouchers and moments, shared by the customer, staff and owner screens."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.domain.program import pick_text
from bot.telegram.render import Fmt, esc, language_name


def kind_label(kind: str, ctx: Any, fmt: Fmt) -> str:
    """A reward kind in the reader's language: built-in kinds are translated,
    kinds the program adds carry their own names."""
    builtin = {
        "discount_percent": _("Percentage discount"),
        "discount_amount": _("Money off"),
        "free_product": _("Free product"),
        "free_shipping": _("Free delivery"),
        "gift": _("Gift"),
    }
    if kind in builtin:
        return builtin[kind]
    spec = ctx.program.reward_kinds.get(kind)
    return fmt.name(spec.name) if spec is not None else esc(kind)


def value_label(kind: str, value: Decimal | None, ctx: Any, fmt: Fmt) -> str | None:
    """"10% off", "20 SAR off", or None for kinds without a value."""
    value_type = ctx.program.kind_value(kind)
    if value is None or value_type in (None, "none"):
        return None
    if value_type == "percent":
        return _("{percent}% off").format(percent=fmt.num(Decimal(value)))
    return _("{amount} off").format(amount=fmt.money(Decimal(value), ctx.program.currency))


def what_it_is(reward: Any, ctx: Any, fmt: Fmt) -> str:
    """The kind, and its value when it has one: "Percentage discount · 10% off"."""
    parts = [kind_label(reward.kind, ctx, fmt)]
    value = value_label(reward.kind, reward.value, ctx, fmt)
    if value:
        parts.append(value)
    return " · ".join(parts)


def reward_name(name: dict[str, str] | None, fmt: Fmt) -> str:
    return fmt.name(name) if name else "—"


def description(reward: Any, fmt: Fmt) -> str | None:
    texts = reward.description or {}
    return esc(pick_text(texts, fmt.lang)) if texts else None


def when(fmt: Fmt, moment: datetime) -> str:
    """Date and time in the merchant's zone, in the reader's calendar and digits:
    `13 Azar 1405 at 04:24`, so a Persian date and time never run together."""
    local = moment.astimezone(fmt.zone)
    return _("{date} at {time}").format(date=fmt.date(local), time=fmt.digits_of(local.strftime("%H:%M")))


def last_day(fmt: Fmt, expires_at: datetime) -> str:
    """The last day something is valid, for an instant that ends it (a midnight)."""
    return fmt.date(expires_at - timedelta(seconds=1))


def tier_name(ctx: Any, index: int, fmt: Fmt) -> str:
    tiers = ctx.program.tiers
    return fmt.name(tiers[min(max(index, 0), len(tiers) - 1)].name)


def language_label(lang: str) -> str:
    return language_name(lang)


def days(fmt: Fmt, count: int) -> str:
    """"1 day", "30 days" with the reader's plural rules and digits."""
    return ngettext("{count} day", "{count} days", count).format(count=fmt.num(count))
