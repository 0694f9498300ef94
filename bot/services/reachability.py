"""Whether the bot can write to a member: they block it, they come back (SPEC §5)."""
from __future__ import annotations

from bot.services.ports import Context


async def set_blocked(ctx: Context, telegram_id: int, blocked: bool) -> bool:
    """Record that the member blocked the bot (or is back); False when nothing changed.

    While blocked, the outbox closes their messages as `blocked` without
    calling Telegram; writing to the bot again, or unblocking it, reopens them.
    """
    async with ctx.uow() as uow:
        member = await uow.members.by_telegram_id(telegram_id)
        if member is None or (member.blocked_at is not None) == blocked:
            return False
        await uow.members.set_fields(member.id, blocked_at=ctx.now() if blocked else None)
        await uow.commit()
        return True
