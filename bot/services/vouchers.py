"""Vouchers at the counter (SPEC §4 `/redeem <voucher>`): used once, or refused with the reason."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.rewards import (
    VoucherExpired,
    VoucherForeign,
    VoucherUnknown,
    VoucherUsed,
    parse_voucher_code,
)
from bot.services.ports import Context
from bot.services.rewards import own_prefixes
from bot.services.surveys import offer_csat


@dataclass(frozen=True)
class RedeemResult:
    """A voucher marked used. `member_id`, `voucher_id` and `reward_id` are what a
    follow-up (e.g. a satisfaction survey) needs; `duplicate` means this same
    /redeem message was handled before (a redelivered update) and nothing changed."""

    member_id: int
    voucher_id: int
    reward_id: int
    code: str
    used_at: datetime
    member: Any
    reward: Any
    voucher: Any
    duplicate: bool = False


async def redeem_voucher(ctx: Context, *, staff_id: int, text: str, key: str, via: str | None = None) -> RedeemResult:
    """Mark the voucher `text` used, once. Raises VoucherMistyped (check character
    wrong), VoucherForeign (another shop's tag), VoucherUnknown, VoucherUsed or
    VoucherExpired; nothing changes then."""
    parsed = parse_voucher_code(text)
    now = ctx.now()
    async with ctx.uow() as uow:
        voucher = await uow.vouchers.by_code(parsed.code)
        if voucher is None:
            if parsed.prefix not in await own_prefixes(ctx, uow):
                raise VoucherForeign(code=parsed.code)
            raise VoucherUnknown(code=parsed.code)
        member = await uow.members.by_id(voucher.member_id)
        reward = await uow.rewards.get(voucher.reward_id)
        if voucher.status == "used":
            if voucher.redeem_key == key:
                return _result(voucher, member, reward, duplicate=True)
            raise VoucherUsed(code=voucher.code, used_at=voucher.used_at)
        if voucher.status == "expired" or voucher.expires_at <= now:
            raise VoucherExpired(code=voucher.code, expires_at=voucher.expires_at)
        if not await uow.vouchers.mark_used(voucher.id, now=now, staff_id=staff_id, key=key):
            raise VoucherUsed(code=voucher.code, used_at=None)  # another cashier was a moment faster
        voucher = await uow.vouchers.reload(voucher.id)
        if member is not None and member.telegram_id is not None:
            await uow.outbox.enqueue(
                key=f"voucher-used:{voucher.id}",
                chat_id=member.telegram_id,
                member_id=member.id,
                kind="voucher_used",
                payload={
                    "voucher": voucher.id,
                    "code": voucher.code,
                    "reward": voucher.reward_id,
                    "reward_name": dict(reward.name) if reward is not None else {},
                },
                now=now,
            )
        if member is not None:
            # Satisfaction with what they just received (SPEC: CSAT after a redemption).
            await offer_csat(
                ctx, uow, member, voucher.code, reward=dict(reward.name) if reward is not None else None, now=now
            )
        uow.audit.record(
            actor_id=staff_id, action="voucher_redeem", member_id=voucher.member_id, now=now,
            voucher=voucher.code, reward_id=voucher.reward_id, key=key, **({"via": via} if via else {}),
        )
        await uow.commit()
        return _result(voucher, member, reward)


def _result(voucher: Any, member: Any, reward: Any, *, duplicate: bool = False) -> RedeemResult:
    return RedeemResult(
        member_id=voucher.member_id,
        voucher_id=voucher.id,
        reward_id=voucher.reward_id,
        code=voucher.code,
        used_at=voucher.used_at,
        member=member,
        reward=reward,
        voucher=voucher,
        duplicate=duplicate,
    )


@dataclass(frozen=True)
class VoucherView:
    """A voucher as the shop's systems see it, without using it (SPEC §9.1)."""

    code: str
    status: str  # active | used | expired
    reward: Any
    member: Any
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


async def voucher_status(ctx: Context, text: str) -> VoucherView:
    """Raises VoucherMistyped, VoucherForeign or VoucherUnknown."""
    parsed = parse_voucher_code(text)
    now = ctx.now()
    async with ctx.uow(readonly=True) as uow:
        voucher = await uow.vouchers.by_code(parsed.code)
        if voucher is None:
            if parsed.prefix not in await own_prefixes(ctx, uow):
                raise VoucherForeign(code=parsed.code)
            raise VoucherUnknown(code=parsed.code)
        member = await uow.members.by_id(voucher.member_id)
        reward = await uow.rewards.get(voucher.reward_id)
    status = voucher.status
    if status == "active" and voucher.expires_at <= now:
        status = "expired"
    return VoucherView(voucher.code, status, reward, member, voucher.created_at, voucher.expires_at, voucher.used_at)
