"""A café program with a stamp card, earning actions of all four kinds, milestones and
tier entry rewards, and helpers for the flow tests of SPEC §11."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.domain.program import Program
from standin import BotAPIStandIn, BotMessage
from storage.models import ActionClaim, LedgerEntry, Member, StampEntry, Voucher
from tests.support import Chat, FakeClock, Person, make_app

CHANNEL_ID = -1001234
CHANNEL = "@wafa_cafe"


def cafe_program(**overrides: Any) -> Program:
    defaults = Program().model_dump(mode="json", exclude={"stamps", "actions", "milestones"})
    data: dict[str, Any] = {
        **defaults,
        "stamps": {"every": 3, "reward": "coffee", "max_per_day": 2, "expiry_days": 30,
                   "name": {"en": "Coffee card", "ar": "بطاقة القهوة", "fa": "کارت قهوه"}},
        "actions": [
            {"id": "join", "name": {"en": "Join our channel", "ar": "انضم إلى قناتنا", "fa": "عضویت در کانال ما"},
             "points": 20, "limit": "once", "verify": "channel", "channel": CHANNEL},
            {"id": "tasting", "name": {"en": "Tasting evening", "ar": "أمسية تذوق", "fa": "شب مزه‌کردن"},
             "points": 30, "limit": "daily", "verify": "code", "code": "TASTING"},
            {"id": "review", "name": {"en": "Write a review", "ar": "اكتب تقييمًا", "fa": "نوشتن نظر"},
             "points": 25, "limit": "weekly", "verify": "staff"},
            {"id": "app-order", "name": {"en": "Order in our app", "ar": "اطلب من تطبيقنا", "fa": "سفارش از برنامه"},
             "points": 10, "limit": "monthly", "verify": "api"},
        ],
    }
    data.update(overrides)
    return Program.model_validate(data)


@pytest.fixture
async def cafe(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> AsyncIterator[App]:
    application = await make_app(db_url, standin, clock=clock, program=cafe_program())
    await application.prepare_database()
    try:
        yield application
    finally:
        await application.close()


@pytest.fixture
def cafe_chat(cafe: App, standin: BotAPIStandIn) -> Chat:
    return Chat(cafe, standin)


async def member_of(app: App, person: Person) -> Member:
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(person.id)
        assert member is not None
        return member


async def count(app: App, model: Any, *where: Any) -> int:
    async with app.ctx.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def books(app: App, member_id: int) -> dict[str, int]:
    """Points and stamps as cached and as the ledgers sum them, and what the cards became."""
    async with app.ctx.uow() as uow:
        member = await uow.members.by_id(member_id)
        return {
            "balance": member.balance,
            "ledger": await uow.ledger.sum_for(member_id),
            "stamps": member.stamps,
            "stamp_ledger": await uow.stamps.sum_for(member_id),
            "cards": await uow.stamps.cards_completed(member_id),
            "stamp_vouchers": int(await uow.session.scalar(select(func.count(Voucher.id)).where(
                Voucher.member_id == member_id, Voucher.source == "stamps")) or 0),
        }


def texts(messages: list[BotMessage]) -> str:
    return "\n".join(m.text for m in messages)


def button_data(chat: Chat, message: BotMessage, label_part: str) -> str:
    for text, data in chat.standin.buttons(message):
        if label_part in text and data is not None:
            return data
    raise AssertionError(f"no button with {label_part!r} in {chat.standin.buttons(message)}")


__all__ = [
    "CHANNEL", "CHANNEL_ID", "ActionClaim", "LedgerEntry", "StampEntry", "Voucher", "books", "button_data",
    "cafe", "cafe_chat", "cafe_program", "count", "member_of", "texts",
]
