"""Send a picture as its cached `file_id`, uploading it only the first time.

`send_picture(bot, ctx, chat_id, png, kind=…)` wraps whatever picture a
feature draws (QR cards, vouchers, check-in codes, the /balance card): the
first send uploads the bytes and keeps Telegram's `file_id`
(`bot.services.photos`); later sends of the same bytes name the id. If
Telegram refuses a kept id, it is forgotten and the bytes are uploaded again.
"""
from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, Message

from bot.services.photos import digest_of

log = logging.getLogger(__name__)


def refused_file(exc: TelegramBadRequest) -> bool:
    """Telegram's answers to a file_id it does not know (or not for this bot)."""
    text = exc.message.lower()
    return "file identifier" in text or "file_id" in text or "file reference" in text or "type of file mismatch" in text


async def send_picture(
    bot: Bot, ctx: Any, chat_id: int, png: bytes, *, kind: str, filename: str = "wafa.png", **kwargs: Any
) -> Message:
    """`bot.send_photo` with `png`, by its file_id once Telegram has it; `kwargs` go to send_photo."""
    digest = digest_of(png)
    file_id = await ctx.photos.lookup(ctx, digest)
    if file_id is not None:
        try:
            return await bot.send_photo(chat_id, file_id, **kwargs)
        except TelegramBadRequest as exc:
            if not refused_file(exc):
                raise
            log.warning("Telegram refused the kept file_id of a %s picture (%s); uploading it again", kind, exc.message)
            await ctx.photos.forget(ctx, digest)
    sent = await bot.send_photo(chat_id, BufferedInputFile(png, filename=filename), **kwargs)
    if sent.photo:
        await ctx.photos.remember(ctx, digest, kind=kind, file_id=sent.photo[-1].file_id)
    return sent
