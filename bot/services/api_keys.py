"""API keys (`wafa apikey create|list|revoke`, SPEC §9.1) and checking one on a request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.api_keys import check_name, display_prefix, hash_key, looks_like_key, new_key, parse_scopes
from bot.services.ports import Context

# `last_used_at` is written at most this often per key, so a busy POS does not
# turn every read into a write.
TOUCH_EVERY = timedelta(minutes=5)


class KeyNameTaken(ValueError):
    pass


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


async def create_key(ctx: Context, name: str, scopes_text: str | None = None) -> str:
    """A new key, returned once; only its hash is stored. Raises ValueError (bad
    name or scope) or KeyNameTaken (an active key has this name)."""
    name = check_name(name)
    scopes = parse_scopes(scopes_text)
    key = new_key()
    async with ctx.uow() as uow:
        created = await uow.api_keys.create(
            name=name, prefix=display_prefix(key), key_hash=hash_key(key), scopes=list(scopes), now=ctx.now()
        )
        if not created:
            raise KeyNameTaken(f"an active key is already called {name!r}; revoke it or pick another name")
        uow.audit.record(actor_id=0, action="apikey_create", now=ctx.now(), name=name, scopes=list(scopes))
        await uow.commit()
    return key


async def list_keys(ctx: Context) -> list[KeyInfo]:
    async with ctx.uow(readonly=True) as uow:
        return [_info(row) for row in await uow.api_keys.all()]


async def revoke_key(ctx: Context, name: str) -> bool:
    async with ctx.uow() as uow:
        revoked = bool(await uow.api_keys.revoke(name, now=ctx.now()))
        if revoked:
            uow.audit.record(actor_id=0, action="apikey_revoke", now=ctx.now(), name=name)
            await uow.commit()
    return revoked


async def authenticate(ctx: Context, presented: str) -> KeyInfo | None:
    """The active key behind `presented`, or None (unknown, malformed or revoked)."""
    if not looks_like_key(presented):
        return None
    now = ctx.now()
    async with ctx.uow(readonly=True) as uow:
        row = await uow.api_keys.by_hash(hash_key(presented))
        if row is None or row.revoked_at is not None:
            return None
        info = _info(row)
    if info.last_used_at is None or now - info.last_used_at > TOUCH_EVERY:
        async with ctx.uow() as uow:
            await uow.api_keys.touch(info.id, now=now)
            await uow.commit()
    return info


def _info(row: Any) -> KeyInfo:
    return KeyInfo(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
