"""Domain errors to sentences in the reader's language, and the middleware that
turns any failure into a clear answer instead of silence (SPEC §8)."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import DomainError
from bot.telegram.edits import already_done, not_modified, query_too_old
from bot.telegram.render import Fmt, esc, isolate

log = logging.getLogger(__name__)
ECHO_LIMIT = 40  # never echo more than this much of what the user typed
ALERT_LIMIT = 200  # Telegram's limit for a callback answer


def echo(text: object) -> str:
    """Part of the user's input, safe to quote back in RTL HTML text."""
    raw = str(text)
    clipped = raw if len(raw) <= ECHO_LIMIT else raw[: ECHO_LIMIT - 1] + "…"
    return isolate(esc(clipped))


Describe = Callable[[DomainError, Fmt], str]
_DESCRIPTIONS: dict[str, Describe] = {}


def describes(code: str) -> Callable[[Describe], Describe]:
    """Register the sentence for an error code; features add their own."""

    def register(func: Describe) -> Describe:
        _DESCRIPTIONS[code] = func
        return func

    return register


def describe(error: DomainError, fmt: Fmt) -> str:
    render = _DESCRIPTIONS.get(error.code)
    if render is None:
        log.error("no description for domain error %s", error.code)
        return _("Sorry, that did not work. Nothing was changed.")
    return render(error, fmt)


@describes("not_a_member")
def _not_a_member(error: DomainError, fmt: Fmt) -> str:
    return _("You are not a member yet. Send /start to join: it takes one tap.")


@describes("member_not_found")
def _member_not_found(error: DomainError, fmt: Fmt) -> str:
    return _("No member matches {query}. Use their member code, @username, phone number or Telegram id.").format(
        query=echo(error.details.get("query", ""))
    )


@describes("ambiguous_member")
def _ambiguous_member(error: DomainError, fmt: Fmt) -> str:
    return _("More than one member matches {query}. Use their member code instead.").format(
        query=echo(error.details.get("query", ""))
    )


@describes("member_forgotten")
def _member_forgotten(error: DomainError, fmt: Fmt) -> str:
    return _("That member asked us to erase their data, so the account can no longer be used.")


@describes("invalid_amount")
def _invalid_amount(error: DomainError, fmt: Fmt) -> str:
    text = _("{amount} is not a valid amount. Send a positive number with at most two decimals, e.g. 120.50.").format(
        amount=echo(error.details.get("text", ""))
    )
    minimum = error.details.get("minimum")
    if minimum:
        text += "\n" + _("The smallest purchase that earns points is {minimum}.").format(minimum=fmt.num(minimum))
    return text


@describes("amount_too_large")
def _amount_too_large(error: DomainError, fmt: Fmt) -> str:
    return _("{amount} is more than the largest purchase the program accepts ({maximum}). Check the amount.").format(
        amount=echo(error.details.get("text", "")), maximum=fmt.num(error.details["maximum"])
    )


@describes("invalid_points")
def _invalid_points(error: DomainError, fmt: Fmt) -> str:
    return _("{points} is not a valid number of points. Send a whole number such as 50 or -20.").format(
        points=echo(error.details.get("text", ""))
    )


@describes("insufficient_points")
def _insufficient_points(error: DomainError, fmt: Fmt) -> str:
    return _("Not enough points: this needs {needed}, the balance is {balance}. Nothing was changed.").format(
        needed=fmt.points(error.details["needed"]), balance=fmt.points(error.details["balance"])
    )


@describes("note_too_long")
def _note_too_long(error: DomainError, fmt: Fmt) -> str:
    return _("The note is too long ({length} characters). Keep it under {limit}.").format(
        length=fmt.num(error.details["length"]), limit=fmt.num(error.details["limit"])
    )


@describes("self_service")
def _self_service(error: DomainError, fmt: Fmt) -> str:
    action = error.details.get("action")
    if action == "stamp":
        return _("Staff cannot stamp their own card. Ask another staff member or the owner. Nothing was changed.")
    if action == "birthday":
        return _("Staff cannot change their own birthday. Ask the owner. Nothing was changed.")
    return _("Staff cannot award points to themselves. Ask another staff member or the owner. Nothing was changed.")


@describes("stale_action")
def _stale_action(error: DomainError, fmt: Fmt) -> str:
    return _("This button is no longer valid. Nothing was changed; open the menu again.")


async def answer(event: TelegramObject, text: str) -> None:
    if isinstance(event, CallbackQuery):
        try:
            await event.answer(text[:ALERT_LIMIT], show_alert=True)
        except TelegramBadRequest as exc:  # answered already, or too late: nobody is waiting
            if not query_too_old(exc):
                raise
            log.info("callback answer dropped: %s", exc.message)
    elif isinstance(event, Message):
        await event.answer(text)


class ReplyOnErrors(BaseMiddleware):
    """Inner middleware: a DomainError becomes its sentence; anything else is
    logged and answered with an apology. The unit of work has already rolled
    back by the time the exception arrives here."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        except DomainError as error:
            await answer(event, describe(error, data["fmt"]))
        except TelegramBadRequest as error:
            if not (not_modified(error) or query_too_old(error)):
                log.exception("handler failed for %s", type(event).__name__)
                await answer(event, _("Sorry, something went wrong on our side. Please try again in a moment."))
                return None
            # A double tap or a late answer: the first tap did the work. Not a failure.
            log.info("ignored for %s: %s", type(event).__name__, error.message)
            if isinstance(event, CallbackQuery) and not_modified(error):
                await already_done(event)
        except Exception:
            log.exception("handler failed for %s", type(event).__name__)
            await answer(event, _("Sorry, something went wrong on our side. Please try again in a moment."))
        return None
