"""The Telegram side of outbox delivery: render a row, send it, say what happened.

The state machine (claim, lease, pacing, retries, recovery) is
`bot.services.outbox.OutboxSender`; this courier is what it calls for one
row. Telegram's answer becomes a `SendResult` (what the row then becomes
is the service's `after_send`):

- accepted → SENT (sent)
- 429 → RATE_LIMITED (pending again after `retry_after`; every send pauses)
- 403 → BLOCKED (blocked, and the member is marked as having blocked the bot)
- 400, 404 → REJECTED (failed)
- 401 → UNAUTHORIZED (pending, tried again in a minute)
- 5xx, any other refusal, a connection that never opened → NOT_TAKEN (pending, with backoff)
- a timeout or a connection dropped after the request left, an unreadable
  answer → IN_DOUBT (unknown: it may have arrived, so it is never resent)
"""
from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.utils.i18n import I18n

from bot.domain.delivery import SendOutcome, SendResult
from bot.services.outbox import CannotRender, OutboxRow, Recipient
from bot.services.ports import Context, UnitOfWork
from bot.telegram import scheduled_notices, shop_notices  # noqa: F401  (register their renderers)
from bot.telegram.notices import Outgoing, UnknownNotice, load_data, render
from bot.telegram.photos import send_picture
from bot.telegram.render import Fmt
from bot.telegram.retries import never_left, without_retries

log = logging.getLogger(__name__)


class TelegramCourier:
    """Renders outbox rows with the notice renderers and sends them with aiogram."""

    def __init__(self, ctx: Context, bot: Bot, i18n: I18n) -> None:
        self.ctx = ctx
        self.bot = bot
        self.i18n = i18n

    async def load(self, uow: UnitOfWork, row: OutboxRow, recipient: Recipient | None) -> dict[str, Any]:
        return await load_data(row.kind, uow, row, recipient, self.ctx)

    def render(self, row: OutboxRow, recipient: Recipient | None, payload: dict[str, Any]) -> Outgoing:
        lang = recipient.language if recipient is not None else payload.get("lang", self.i18n.default_locale)
        try:
            with self.i18n.context(), self.i18n.use_locale(lang):
                return render(row.kind, payload, Fmt(lang, self.ctx.program.display, self.ctx.zone), self.ctx)
        except (UnknownNotice, KeyError, ValueError, TypeError) as exc:
            log.error("cannot render outbox row %s (%s): %r", row.id, row.kind, exc)
            raise CannotRender(repr(exc)) from exc

    async def send(self, row: OutboxRow, message: Outgoing) -> SendResult:
        try:
            with without_retries():  # one attempt: the outcome below decides what happens next
                paid = True if self.ctx.paid_broadcast else None
                if message.photo_id is not None:  # e.g. a broadcast's photo: Telegram has it, never uploaded
                    sent = await self.bot.send_photo(
                        row.chat_id, message.photo_id, caption=message.text, reply_markup=message.reply_markup,
                        allow_paid_broadcast=paid,
                    )
                elif message.photo is not None:
                    sent = await send_picture(
                        self.bot, self.ctx, row.chat_id, message.photo, kind="notice",
                        caption=message.text,
                        reply_markup=message.reply_markup,
                        allow_paid_broadcast=paid,
                    )
                else:
                    sent = await self.bot.send_message(
                        row.chat_id, message.text, reply_markup=message.reply_markup, allow_paid_broadcast=paid
                    )
        except TelegramRetryAfter as exc:
            return SendResult(
                SendOutcome.RATE_LIMITED, f"429 retry after {exc.retry_after}s", retry_after=exc.retry_after
            )
        except TelegramForbiddenError as exc:
            return SendResult(SendOutcome.BLOCKED, exc.message)
        except (TelegramBadRequest, TelegramNotFound) as exc:
            return SendResult(SendOutcome.REJECTED, exc.message)
        except TelegramUnauthorizedError as exc:
            log.error("Telegram rejected the bot token: %s", exc.message)
            return SendResult(SendOutcome.UNAUTHORIZED, exc.message)
        except TelegramServerError as exc:  # Telegram answered 5xx: it did not take the message
            return SendResult(SendOutcome.NOT_TAKEN, exc.message)
        except TelegramNetworkError as exc:
            if never_left(exc):
                return SendResult(SendOutcome.NOT_TAKEN, exc.message)
            # The request may have reached Telegram: its fate is unknown, never resend.
            return SendResult(SendOutcome.IN_DOUBT, exc.message)
        except TelegramAPIError as exc:  # any other refusal (e.g. 409): Telegram answered, nothing was sent
            return SendResult(SendOutcome.NOT_TAKEN, exc.message)
        except Exception as exc:  # an unreadable answer: it may have been delivered
            log.exception("unexpected error sending outbox row %s", row.id)
            return SendResult(SendOutcome.IN_DOUBT, repr(exc))
        return SendResult(SendOutcome.SENT, message_id=sent.message_id)
