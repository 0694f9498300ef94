"""Helpers for the rewards flow tests: buttons by label, members, catalog set-up."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.app import App
from standin import BotMessage
from storage.models import LedgerEntry, Member, Reward, Voucher
from tests.support import OWNER, Chat, Person


def button(chat: Chat, message: BotMessage, label_part: str) -> str:
    """callback_data of the button whose label contains `label_part`."""
    for text, data in chat.standin.buttons(message):
        if label_part in text and data is not None:
            return data
    raise AssertionError(f"no button with {label_part!r} in {chat.standin.buttons(message)}")


def with_buttons(messages: list[BotMessage]) -> BotMessage:
    found = [m for m in messages if m.reply_markup and "inline_keyboard" in m.reply_markup]
    assert found, [m.text for m in messages]
    return found[-1]


def latest(chat: Chat, person: Person) -> BotMessage:
    return chat.standin.messages(person.id)[-1]


async def member_of(app: App, person: Person) -> Member:
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(person.id)
        assert member is not None
        return member


async def join(chat: Chat, app: App, person: Person, points: int = 0) -> Member:
    """`person` joins (20 signup points) and gets `points` more from a purchase."""
    await chat.say(person, "/start")
    member = await member_of(app, person)
    if points:
        reply = await chat.reply_text(OWNER, f"/award {member.code} {points}")
        assert "✅" in reply, reply
    return await member_of(app, person)


async def add_reward(app: App, **values: Any) -> Reward:
    now = app.ctx.now()
    defaults: dict[str, Any] = {
        "seed_id": None, "name": {"en": "Mug", "ar": "كوب", "fa": "ماگ"}, "description": {}, "cost": 100,
        "kind": "gift", "value": None, "stock": None, "per_member_limit": None, "min_tier": 0, "valid_days": 30,
        "starts_at": None, "ends_at": None, "active": True, "created_at": now, "updated_at": now,
    }
    defaults.update(values)
    async with app.ctx.uow() as uow:
        reward = await uow.rewards.create(**defaults)
        await uow.commit()
        return reward


async def reward_by_name(app: App, english: str) -> Reward:
    async with app.ctx.uow() as uow:
        for reward in await uow.rewards.all():
            if reward.name.get("en") == english:
                return reward
    raise AssertionError(f"no reward {english!r}")


async def vouchers_of(app: App, member_id: int) -> list[Voucher]:
    async with app.ctx.uow() as uow:
        return list(await uow.session.scalars(select(Voucher).where(Voucher.member_id == member_id).order_by(Voucher.id)))


async def ledger_count(app: App) -> int:
    async with app.ctx.uow() as uow:
        return int(await uow.session.scalar(select(func.count(LedgerEntry.id))) or 0)
