"""Pictures sent once: the `file_id` Telegram gives an upload is kept and reused.

A QR card or voucher image is the same picture every time (the changing
numbers are in the caption), so only the first send uploads it; later sends
name the `file_id`. The ids live in the database (`photo_files`, keyed by the
SHA-256 of the PNG, so every replica and every restart reuses them) and in
memory here, so a repeated picture costs no query at all. A file_id is only
valid for the bot that received it: when Telegram refuses one (a new token,
a cleared stand-in), the caller forgets it and uploads again.
"""
from __future__ import annotations

import hashlib
from typing import Any

MEMORY_LIMIT = 50_000  # ids kept in memory (about 10 MB at most); older ones are read again


def digest_of(png: bytes) -> str:
    return hashlib.sha256(png).hexdigest()


class PhotoIds:
    """file_ids by picture digest: memory first, then the database."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    async def lookup(self, ctx: Any, digest: str) -> str | None:
        known = self._known.get(digest)
        if known is not None:
            return known
        async with ctx.uow(readonly=True) as uow:
            file_id: str | None = await uow.photos.file_id(digest)
        if file_id is not None:
            self._keep(digest, file_id)
        return file_id

    async def remember(self, ctx: Any, digest: str, *, kind: str, file_id: str) -> None:
        async with ctx.uow() as uow:
            await uow.photos.remember(digest, kind=kind, file_id=file_id, now=ctx.now())
            await uow.commit()
        self._keep(digest, file_id)

    async def forget(self, ctx: Any, digest: str) -> None:
        self._known.pop(digest, None)
        async with ctx.uow() as uow:
            await uow.photos.forget(digest)
            await uow.commit()

    def _keep(self, digest: str, file_id: str) -> None:
        if len(self._known) >= MEMORY_LIMIT:
            self._known.pop(next(iter(self._known)))
        self._known[digest] = file_id
