"""The outbox state machine on its own: a scripted courier stands in for Telegram.

`bot.services.outbox` decides what a send's outcome does to its row; the
Telegram courier only renders, sends and classifies. These tests hold the
service to its transitions with no aiogram in the loop (the Telegram side
is covered against the stand-in in tests/handlers/test_outbox_delivery.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.app import App
from bot.domain.delivery import DeliveryStatus, SendOutcome, SendResult
from bot.services import outbox
from bot.services.outbox import (
    MAX_ATTEMPTS,
    UNAUTHORIZED_WAIT,
    CannotRender,
    Finish,
    OutboxRow,
    OutboxSender,
    Recipient,
    Retry,
    after_send,
    backoff,
)
from bot.services.ports import UnitOfWork
from tests.support import FakeClock

CHAT = 555


@dataclass
class ScriptedCourier:
    """Answers each send with the next scripted result (the last one repeats)."""

    script: list[SendResult]
    unrenderable: set[str] = field(default_factory=set)
    sent: list[tuple[int, str]] = field(default_factory=list)

    async def load(self, uow: UnitOfWork, row: OutboxRow, recipient: Recipient | None) -> dict[str, Any]:
        return dict(row.payload)

    def render(self, row: OutboxRow, recipient: Recipient | None, payload: dict[str, Any]) -> str:
        if row.kind in self.unrenderable:
            raise CannotRender(f"no renderer for {row.kind!r}")
        return str(payload["text"])

    async def send(self, row: OutboxRow, message: str) -> SendResult:
        self.sent.append((row.id, message))
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


@pytest.fixture(autouse=True)
def no_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    # One message per second per chat is real time; these tests move the fake clock instead.
    monkeypatch.setattr(outbox, "PER_CHAT_INTERVAL", 0.0)


async def queue(app: App, key: str, text: str, *, kind: str = "note") -> None:
    async with app.ctx.uow() as uow:
        await uow.outbox.enqueue(key=key, chat_id=CHAT, kind=kind, payload={"text": text}, now=app.ctx.now())
        await uow.commit()


async def row_of(app: App, key: str) -> Any:
    async with app.ctx.uow(readonly=True) as uow:
        return await uow.outbox.by_key(key)


def sender_for(app: App, courier: ScriptedCourier) -> OutboxSender[str]:
    return OutboxSender(app.ctx, courier, rate=1000.0, worker="test-sender")


@pytest.mark.parametrize(
    ("result", "step"),
    [
        (SendResult(SendOutcome.SENT), Finish(DeliveryStatus.SENT, None)),
        (SendResult(SendOutcome.BLOCKED, "Forbidden"), Finish(DeliveryStatus.BLOCKED, "Forbidden")),
        (SendResult(SendOutcome.REJECTED, "Bad Request"), Finish(DeliveryStatus.FAILED, "Bad Request")),
        (SendResult(SendOutcome.IN_DOUBT, "timeout"), Finish(DeliveryStatus.UNKNOWN, "timeout")),
        (SendResult(SendOutcome.RATE_LIMITED, "429", retry_after=7), Retry(7, "429", counts=False)),
        (SendResult(SendOutcome.UNAUTHORIZED, "401"), Retry(UNAUTHORIZED_WAIT, "401", counts=False)),
        (SendResult(SendOutcome.NOT_TAKEN, "502"), Retry(backoff(3), "502")),
    ],
)
def test_each_outcome_moves_the_row_as_spec_5_says(result: SendResult, step: Finish | Retry) -> None:
    assert after_send(result, attempts=3) == step


def test_backoff_doubles_up_to_five_minutes() -> None:
    assert [backoff(n) for n in (1, 2, 3, 8, 9, 20)] == [2.0, 4.0, 8.0, 256.0, 300.0, 300.0]


async def test_a_message_telegram_never_takes_fails_after_the_last_attempt(app: App, clock: FakeClock) -> None:
    courier = ScriptedCourier([SendResult(SendOutcome.NOT_TAKEN, "Bad Gateway")])
    sender = sender_for(app, courier)
    await queue(app, "k:1", "hello")
    for attempt in range(1, MAX_ATTEMPTS):
        assert (await sender.drain()).retried == 1
        row = await row_of(app, "k:1")
        assert (row.status, row.attempts) == (DeliveryStatus.PENDING, attempt)
        assert row.not_before == clock.current + timedelta(seconds=backoff(attempt))
        assert (await sender.drain()).retried == 0  # not before its backoff
        clock.set(row.not_before)
    assert (await sender.drain()).failed == 1
    row = await row_of(app, "k:1")
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error == f"gave up after {MAX_ATTEMPTS} attempts: Bad Gateway"
    assert len(courier.sent) == MAX_ATTEMPTS
    clock.advance(hours=1)
    assert (await sender.drain()).processed == 0 and len(courier.sent) == MAX_ATTEMPTS


async def test_rate_limits_do_not_use_up_attempts(app: App, clock: FakeClock) -> None:
    limited = SendResult(SendOutcome.RATE_LIMITED, "429 retry after 0.01s", retry_after=0.01)
    courier = ScriptedCourier([limited] * (MAX_ATTEMPTS + 2) + [SendResult(SendOutcome.SENT)])
    sender = sender_for(app, courier)
    await queue(app, "k:2", "hello")
    for _ in range(MAX_ATTEMPTS + 2):
        assert (await sender.drain()).retried == 1
        clock.advance(seconds=1)
    assert (await sender.drain()).sent == 1
    row = await row_of(app, "k:2")
    assert (row.status, row.attempts, row.sent_at) == (DeliveryStatus.SENT, MAX_ATTEMPTS + 3, clock.current)


async def test_an_outcome_in_doubt_is_never_offered_again(app: App, clock: FakeClock) -> None:
    courier = ScriptedCourier([SendResult(SendOutcome.IN_DOUBT, "Request timeout error")])
    sender = sender_for(app, courier)
    await queue(app, "k:3", "maybe")
    assert (await sender.drain()).unknown == 1
    clock.advance(days=1)
    await sender.recover()
    assert (await sender.drain()).processed == 0
    assert courier.sent == [((await row_of(app, "k:3")).id, "maybe")]
    assert (await row_of(app, "k:3")).status == DeliveryStatus.UNKNOWN


async def test_a_row_that_cannot_be_rendered_fails_without_a_send(app: App) -> None:
    courier = ScriptedCourier([SendResult(SendOutcome.SENT)], unrenderable={"mystery"})
    sender = sender_for(app, courier)
    await queue(app, "k:4", "never", kind="mystery")
    await queue(app, "k:5", "fine")
    report = await sender.drain()
    assert (report.failed, report.sent) == (1, 1)
    broken = await row_of(app, "k:4")
    assert (broken.status, broken.last_error) == (DeliveryStatus.FAILED, "render: no renderer for 'mystery'")
    assert [text for _, text in courier.sent] == ["fine"]


async def test_statuses_are_stored_as_the_strings_they_always_were(app: App) -> None:
    await queue(app, "k:6", "hello")
    await sender_for(app, ScriptedCourier([SendResult(SendOutcome.SENT)])).drain()
    async with app.ctx.uow(readonly=True) as uow:
        raw = (await uow.session.execute(text("SELECT status FROM outbox WHERE key = :key"), {"key": "k:6"})).scalar()
    assert raw == "sent" and type(raw) is str
