"""Messages about purchases and refunds that came from the shop's systems (SPEC §9)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.telegram.notices import Outgoing, notice
from bot.telegram.render import Fmt


@notice("points_reversed")
def _points_reversed(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    amount = fmt.money(Decimal(payload["amount"]), ctx.program.currency)
    text = _("↩️ {points} were taken back for a refund of {amount}. Your balance is {balance}.")
    return Outgoing(
        text.format(points=fmt.points(payload["points"]), amount=amount, balance=fmt.points(payload["balance"]))
    )
