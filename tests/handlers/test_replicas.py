"""Several replicas behind one webhook: conversation state lives in Redis (REDIS_URL),
so a conversation started on one replica continues on another.

Runs when WAFA_TEST_REDIS_URL names a Redis server (`.ci/run` starts one); the test
empties that Redis database first.
"""
from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.app import App
from standin import BotAPIStandIn
from tests.handlers.rewards_support import button, latest, member_of
from tests.support import SARA, Chat, FakeClock, make_app

REDIS_URL = os.environ.get("WAFA_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="WAFA_TEST_REDIS_URL is not set (.ci/run sets it)")


@pytest.fixture
async def replicas(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> AsyncIterator[tuple[Chat, Chat]]:
    redis = Redis.from_url(REDIS_URL)  # type: ignore[arg-type]
    await redis.flushdb()
    await redis.aclose()
    first = await make_app(db_url, standin, clock=clock, redis_url=REDIS_URL)
    second = await make_app(db_url, standin, clock=clock, redis_url=REDIS_URL)
    try:
        yield Chat(first, standin), Chat(second, standin)
    finally:
        await first.close()
        await second.close()


async def test_a_conversation_moves_between_replicas(replicas: tuple[Chat, Chat]) -> None:
    on_a, on_b = replicas
    await on_a.say(SARA, "/start")
    await on_a.say(SARA, "/birthday")  # replica A asks for the date …
    [question] = await on_b.say(SARA, "۱۳۶۹/۰۲/۲۷")  # … replica B gets the answer
    assert "کدام تقویم" in question.text
    await on_a.press(SARA, question, button(on_a, question, "هجری شمسی"))  # edits the question in place
    confirm = latest(on_a, SARA)
    assert "درست است؟" in confirm.text
    await on_b.press(SARA, confirm, button(on_b, confirm, "بله"))
    assert "ثبت شد" in latest(on_b, SARA).text
    member = await member_of(on_b.app, SARA)
    assert (member.birth_calendar, member.birth_year, member.birth_month, member.birth_day) == ("j", 1369, 2, 27)  # j = Jalali


async def test_without_shared_state_the_other_replica_would_not_know(
    db_url: str, standin: BotAPIStandIn, clock: FakeClock
) -> None:
    """The control: two replicas with in-process memory lose the conversation."""
    first: App = await make_app(db_url, standin, clock=clock)
    second: App = await make_app(db_url, standin, clock=clock)
    try:
        await Chat(first, standin).say(SARA, "/start")
        await Chat(first, standin).say(SARA, "/birthday")
        [reply] = await Chat(second, standin).say(SARA, "۱۳۶۹/۰۲/۲۷")
        assert "کدام تقویم" not in reply.text
    finally:
        await first.close()
        await second.close()
