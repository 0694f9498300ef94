"""Send a picture as its cached `file_id`, uploading it only the first time.

`send_picture(bot, ctx, chat_id, png, kind=…)` wraps whatever picture a
feature draws (QR cards, vouchers, check-in codes, the /balance card): the
first send uploads the bytes and keeps Telegram's `file_id`
(`bot.services.photos`); later sends of the same bytes name the id. If
Telegram refuses a kept id, it is forgotten and the bytes are uploaded again.

A picture that is costly to draw passes `key` (a 64-character hex digest of
what it shows, e.g. `CardFace.key`) and `png` as an async function: it is
drawn only when Telegram has no id for that key yet.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
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
    bot: Bot, ctx: Any, chat_id: int, png: bytes | Callable[[], Awaitable[bytes]], *, kind: str,
    filename: str = "wafa.png", key: str | None = None, **kwargs: Any
) -> Message:
    """`bot.send_photo` with `png`, by its file_id once Telegram has it; `kwargs` go to send_photo.

    The file_id is kept under `key` when given, else under the digest of the bytes.
    """
    if key is not None:
        digest = key
    elif isinstance(png, bytes):
        digest = digest_of(png)
    else:
        raise TypeError("a picture drawn on demand needs its key")
    file_id = await ctx.photos.lookup(ctx, digest)
    if file_id is not None:
        try:
            return await bot.send_photo(chat_id, file_id, **kwargs)
        except TelegramBadRequest as exc:
            if not refused_file(exc):
                raise
            log.warning("Telegram refused the kept file_id of a %s picture (%s); uploading it again", kind, exc.message)
            await ctx.photos.forget(ctx, digest)
    data = png if isinstance(png, bytes) else await png()
    sent = await bot.send_photo(chat_id, BufferedInputFile(data, filename=filename), **kwargs)
    if sent.photo:
        await ctx.photos.remember(ctx, digest, kind=kind, file_id=sent.photo[-1].file_id)
    return sent
