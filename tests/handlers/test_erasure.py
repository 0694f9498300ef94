"""/forget, airtight (SPEC §7): nothing of the person stays behind (outbox payloads,
audit details, notes, survey comments, the SQLite file's free pages), and a rejoin
is a new member who earns no bonus the erased membership already earned."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.app import App
from bot.domain.calendars import BirthDate
from bot.domain.privacy import erasure_key, former_key
from bot.jobs import run_job
from storage.models import (
    AuditEntry,
    FormerMember,
    LedgerEntry,
    Member,
    OutboxMessage,
    Survey,
)
from tests.handlers.test_core_flow import member_of
from tests.handlers.test_survey_flow import answer, owner_opens_the_chat
from tests.services.test_birthday_job import ten_am
from tests.support import EMMA, OWNER, TOKEN, Chat, FakeClock, Person

ZORA = Person(1077, "Zoraida", "en", "zoraida_qx", last_name="Quetzalcoatl")
COMMENT = "Barista Marguerite-Ysolde was rude to me"


async def forget(chat: Chat, person: Person) -> None:
    ask = (await chat.say(person, "/forget"))[-1]
    await chat.press(person, ask, chat.standin.buttons(ask)[0][1])


async def ledger(app: App, member_id: int) -> list[tuple[str, int]]:
    async with app.ctx.uow() as uow:
        rows = await uow.session.execute(
            select(LedgerEntry.kind, LedgerEntry.delta).where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.id)
        )
        return [(kind, delta) for kind, delta in rows.all()]


def test_the_former_member_key_is_a_keyed_hash() -> None:
    key = erasure_key(None, TOKEN)
    assert key is not None and key != erasure_key(None, "7000000001:another-token")
    assert erasure_key("a-secret", TOKEN) == erasure_key("a-secret", None) != key  # ERASURE_KEY wins
    digest = former_key(key, ZORA.id)
    assert len(digest) == 64 and str(ZORA.id) not in digest
    assert digest == former_key(key, ZORA.id) != former_key(key, ZORA.id + 1)
    assert erasure_key(None, None) is None


async def test_forget_and_rejoin_by_the_same_link_farms_nothing(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    emma = await member_of(app, EMMA)
    await chat.say(ZORA, f"/start ref-{emma.code}")
    first = await member_of(app, ZORA)
    await chat.say(OWNER, f"/award {first.code} 30")
    assert await ledger(app, first.id) == [("signup", 20), ("purchase", 30), ("referral", 50)]
    assert await ledger(app, emma.id) == [("signup", 20), ("referral", 100)]

    await forget(chat, ZORA)
    async with app.ctx.uow() as uow:
        [former] = (await uow.session.scalars(select(FormerMember))).all()
    assert app.ctx.erasure_key is not None and former.key_hash == former_key(app.ctx.erasure_key, ZORA.id) and former.signup_bonus and former.referred

    for _round in range(2):  # the same link again, and again after a second /forget
        welcome = await chat.reply_text(ZORA, f"/start ref-{emma.code}")
        assert "invitation" not in welcome and "20 points" not in welcome
        again = await member_of(app, ZORA)
        assert again.id != first.id and again.referrer_id is None
        await chat.say(OWNER, f"/award {again.code} 30")
        assert await ledger(app, again.id) == [("purchase", 30)]  # no signup, no referral bonus
        await forget(chat, ZORA)
    assert await ledger(app, emma.id) == [("signup", 20), ("referral", 100)]  # paid once
    async with app.ctx.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(FormerMember)) == 1


async def test_a_rejoin_gets_no_second_birthday_bonus_this_year(chat: Chat, app: App, clock: FakeClock) -> None:
    day = date(2026, 5, 17)
    clock.set(ten_am(day))
    await chat.say(ZORA, "/start")
    first = await member_of(app, ZORA)
    async with app.ctx.uow() as uow:
        await uow.audiences.set_birthday(first.id, BirthDate("g", 1990, 5, 17), only_if_unset=False)
        await uow.commit()
    await run_job(app, "birthdays", None)
    assert ("birthday", 100) in await ledger(app, first.id)
    await forget(chat, ZORA)
    clock.advance(hours=2)
    await chat.say(ZORA, "/start")
    again = await member_of(app, ZORA)
    async with app.ctx.uow() as uow:
        await uow.audiences.set_birthday(again.id, BirthDate("g", 1990, 5, 17), only_if_unset=False)
        await uow.commit()
    summary = await run_job(app, "birthdays", None)
    assert "1 greeting(s) queued, 0 bonus(es) paid" in summary  # greeted, not paid again
    assert await ledger(app, again.id) == []
    # Next year's birthday is the new membership's own.
    clock.set(ten_am(date(2027, 5, 17)))
    await run_job(app, "birthdays", None)
    assert await ledger(app, again.id) == [("birthday", 100)]


def sqlite_files(db_url: str) -> list[Path]:
    path = Path(make_url(db_url).database or "")
    return [p for p in (path, Path(f"{path}-wal")) if p.exists()]


async def test_forget_leaves_no_name_or_comment_in_the_outbox_audit_or_database_file(
    chat: Chat, app: App, db_url: str
) -> None:
    await owner_opens_the_chat(chat)
    await chat.say(EMMA, "/start")
    emma = await member_of(app, EMMA)
    await chat.say(ZORA, f"/start ref-{emma.code}")  # Emma is told "Zoraida joined" (queued)
    await chat.share_contact(ZORA, "966501234567")
    zora = await member_of(app, ZORA)
    await chat.say(OWNER, f"/award {zora.code} 40 for Zoraida Quetzalcoatl's party")
    await chat.say(OWNER, f"/setbirthday {zora.code} 1990-05-17")
    await answer(chat, ZORA, "2")
    await chat.say(ZORA, COMMENT)  # the owner's detractor alert names her and quotes her
    await chat.deliver_outbox()  # some rows sent (payloads kept), then more queued:
    await chat.say(OWNER, f"/adjust {zora.code} 5 sorry Zoraida")

    secrets = ["Zoraida", "Quetzalcoatl", "zoraida_qx", "Marguerite-Ysolde", "966501234567"]
    if app.ctx.settings.is_sqlite:
        before = b"".join(p.read_bytes() for p in sqlite_files(db_url))
        assert b"Zoraida" in before and b"Marguerite-Ysolde" in before  # the test can fail

    await forget(chat, ZORA)

    async with app.ctx.uow() as uow:
        outbox = (await uow.session.scalars(select(OutboxMessage))).all()
        audit = (await uow.session.scalars(select(AuditEntry))).all()
        surveys = (await uow.session.scalars(select(Survey))).all()
        notes = (await uow.session.scalars(select(LedgerEntry.note))).all()
        member = await uow.session.get(Member, zora.id)
    assert member is not None and member.first_name is None
    text = repr([(m.chat_id, m.key, m.payload) for m in outbox]) + repr([(a.actor_id, a.details) for a in audit])
    text += repr([s.comment for s in surveys]) + repr(notes)
    for secret in secrets:
        assert secret not in text, secret
    assert str(ZORA.id) not in repr([(m.chat_id, a.actor_id) for m in outbox for a in audit])
    async with app.ctx.uow() as uow:
        keys = [*(await uow.session.scalars(select(LedgerEntry.idempotency_key))).all(),
                *(await uow.session.scalars(select(Survey.key))).all(), *(m.key for m in outbox)]
    assert not [k for k in keys if f":{ZORA.id}:" in k or k.endswith(f":{ZORA.id}")], keys
    assert not [m for m in outbox if m.status == "pending" and (m.member_id == zora.id or m.subject_id == zora.id)]
    # Rows about her to others are kept, anonymous: the owner's alert still has its score.
    alerts = [m for m in outbox if m.kind == "survey_alert"]
    assert alerts and all(m.payload["name"] is None and m.payload["comment"] is None for m in alerts)
    assert all(m.payload["score"] == 2 for m in alerts)

    if app.ctx.settings.is_sqlite:
        after = b"".join(p.read_bytes() for p in sqlite_files(db_url))
        for secret in secrets:
            assert secret.encode() not in after, secret
