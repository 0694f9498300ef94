"""Messages the bot sends on its own, rendered from outbox rows at send time.

The outbox stores facts (`kind` + `payload`), not text: the message is
rendered in the recipient's language when it is sent, so a member who
switches language before delivery reads it in the new one. Features add
their kinds with `@notice("kind")`.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.telegram.render import Fmt


@dataclass(frozen=True)
class Outgoing:
    text: str
    photo: bytes | None = None  # sent as a photo with `text` as caption
    photo_id: str | None = None  # a photo Telegram already has (its file_id), sent with `text` as caption
    reply_markup: InlineKeyboardMarkup | None = None


Render = Callable[[dict[str, Any], Fmt, Any], Outgoing]
_RENDERERS: dict[str, Render] = {}
# What a kind needs from the database at send time, merged into its payload
# before rendering: `async (uow, row, recipient) -> dict`. Lets a broadcast
# row carry only its id and still greet each member by name with the
# balance they have when it is sent.
Load = Callable[[Any, Any, Any], Awaitable[dict[str, Any]]]
_LOADERS: dict[str, Load] = {}


def notice(kind: str) -> Callable[[Render], Render]:
    def register(func: Render) -> Render:
        _RENDERERS[kind] = func
        return func

    return register


# The same, for loaders that need the program or the clock: `async (ctx, uow, row, recipient) -> dict`.
ContextLoad = Callable[[Any, Any, Any, Any], Awaitable[dict[str, Any]]]
_CONTEXT_LOADERS: dict[str, ContextLoad] = {}


def notice_data(kind: str) -> Callable[[Load], Load]:
    def register(func: Load) -> Load:
        _LOADERS[kind] = func
        return func

    return register


def notice_context_data(kind: str) -> Callable[[ContextLoad], ContextLoad]:
    def register(func: ContextLoad) -> ContextLoad:
        _CONTEXT_LOADERS[kind] = func
        return func

    return register


async def load_data(kind: str, uow: Any, row: Any, recipient: Any, ctx: Any = None) -> dict[str, Any]:
    """The row's payload, completed by the kind's loader (if it has one)."""
    if kind in _CONTEXT_LOADERS and ctx is not None:
        return {**row.payload, **await _CONTEXT_LOADERS[kind](ctx, uow, row, recipient)}
    loader = _LOADERS.get(kind)
    if loader is None:
        return dict(row.payload)
    return {**row.payload, **await loader(uow, row, recipient)}


class UnknownNotice(KeyError):
    pass


def render(kind: str, payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    try:
        renderer = _RENDERERS[kind]
    except KeyError:
        raise UnknownNotice(kind) from None
    return renderer(payload, fmt, ctx)


@notice("points_awarded")
def _points_awarded(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    amount = fmt.money(Decimal(payload["amount"]), ctx.program.currency)
    if payload["points"]:
        text = _("⭐ You earned {points} for your purchase of {amount}. Your balance is {balance}.")
    else:
        text = _("Thanks for your purchase of {amount}! Your balance is {balance}.")
    return Outgoing(
        text.format(points=fmt.points(payload["points"]), amount=amount, balance=fmt.points(payload["balance"]))
    )
