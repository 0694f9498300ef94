"""A whole prize draw through the real dispatcher on a time-travel clock: /draw, the
announcement with the commitment, entries from purchases, /draws, the `draws` job closing
it, winners told and given vouchers, the owner's report, `verify`, and an outsider's
recomputation from the published seed alone. Then the edge cases: no entries, fewer
entrants than winners, a winner who blocked the bot, /forget during a draw."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.jobs import run_job
from bot.services import draws
from bot.services.rewards import seed_rewards
from storage.models import AuditEntry, Draw, DrawEntry, DrawWinner, Voucher
from tests.handlers.test_core_flow import member_of
from tests.handlers.test_survey_flow import button, rows
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat, FakeClock, Person


def outsider_winners(seed: str, entries: list[dict[str, Any]], count: int) -> list[int]:
    """The README's recipe, written again from its words: tickets 1..N in the published
    order, round i hashes "<seed>:<i>", the ticket at (hash mod remaining) wins, and
    all of that member's tickets leave the list."""
    holders: list[str] = []
    for entry in entries:
        holders += [entry["member"]] * entry["tickets"]
    remaining = list(range(1, len(holders) + 1))
    picked: list[int] = []
    i = 0
    while remaining and len(picked) < count:
        digest = hashlib.sha256((seed + ":" + str(i)).encode()).hexdigest()
        ticket = remaining[int(digest, 16) % len(remaining)]
        picked.append(ticket)
        remaining = [t for t in remaining if holders[t - 1] != holders[ticket - 1]]
        i += 1
    return picked


async def winners_of(app: App) -> list[DrawWinner]:
    async with app.ctx.uow() as uow:
        return list(await uow.session.scalars(select(DrawWinner).order_by(DrawWinner.draw_id, DrawWinner.rank)))


async def opt_in(app: App, *people: Person) -> None:
    ids = [(await member_of(app, person)).id for person in people]
    async with app.ctx.uow() as uow:
        for member_id in ids:
            await uow.members.set_fields(member_id, marketing_opt_in=True)
        await uow.commit()


async def set_up_draw(chat: Chat, *, window: str = "7d", rule: str = "amount", unit: str = "50",
                      prizes: str = "coffee pastry", winners: str = "2") -> str:
    """The owner's /draw conversation up to the confirm tap; returns the confirmation text."""
    assert "What is it called?" in await chat.reply_text(OWNER, "/draw")
    assert "When can members enter?" in await chat.reply_text(
        OWNER, "en: Spring draw\nar: سحب الربيع\nfa: قرعه‌کشی بهار"
    )
    question = (await chat.say(OWNER, window))[0]
    label = "One entry per amount spent" if rule == "amount" else "One entry per purchase"
    await chat.press(OWNER, question, button(chat, question, label))
    if rule == "amount":
        assert "How much does a member spend for one entry?" in chat.standin.messages(OWNER.id)[-1].text
        assert "What do winners get?" in await chat.reply_text(OWNER, unit)
    assert "How many winners?" in await chat.reply_text(OWNER, prizes)
    summary = (await chat.say(OWNER, winners))[-1]
    assert "Prize draws need a permit in some countries" in summary.text
    await chat.press(OWNER, summary, button(chat, summary, "✅ Local rules allow this draw: open it"))
    return chat.standin.messages(OWNER.id)[-1].text


async def test_a_whole_draw_across_a_week(chat: Chat, app: App, clock: FakeClock) -> None:
    await seed_rewards(app.ctx)
    for person in (EMMA, LAYLA, SARA):
        await chat.say(person, "/start")
    await opt_in(app, EMMA, SARA)
    opened = await set_up_draw(chat)
    [draw] = await rows(app, Draw)
    assert f"Draw #{draw.id} is open." in opened and draw.commitment in opened
    assert hashlib.sha256(draw.seed.encode()).hexdigest() == draw.commitment
    assert (draw.rule, str(draw.unit), draw.winners, draw.name["fa"]) == ("amount", "50.00", 2, "قرعه‌کشی بهار")
    # Members who agreed to offers hear of it, with the commitment; Layla did not agree.
    await chat.deliver_outbox()
    emma = chat.standin.messages(EMMA.id)[-1].text
    assert "Spring draw" in emma and draw.commitment in emma and "Free coffee" in emma
    assert draw.commitment in chat.standin.messages(SARA.id)[-1].text
    assert all(draw.commitment not in m.text for m in chat.standin.messages(LAYLA.id))
    # Purchases enter it: one entry per 50 spent.
    await chat.say(OWNER, "/award @emma_w 120")
    await chat.say(OWNER, "/award @sara_t 60")
    await chat.say(OWNER, "/award @layla 49")  # less than one unit: no entry
    await chat.redeliver_last(OWNER.id)
    draws_text = await chat.reply_text(EMMA, "/draws")
    assert "Spring draw" in draws_text and "You have 2 entries of 3." in draws_text and draw.commitment in draws_text
    assert "۱" in await chat.reply_text(SARA, "/draws")
    layla = await chat.reply_text(LAYLA, "/draws")
    assert "سحب الربيع" in layla and "٠" in layla and "٣" in layla
    # Not yet: the job leaves an open window alone.
    clock.advance(days=6)
    assert "0 draw(s) closed" in await run_job(app, "draws", None)
    clock.advance(days=1, minutes=1)
    assert "1 draw(s) closed, 2 winner(s) drawn" in await run_job(app, "draws", None)
    assert "0 draw(s) closed" in await run_job(app, "draws", None)  # a second run closes nothing
    draw = (await rows(app, Draw))[0]
    assert draw.status == "closed" and draw.tickets == 3 and len(draw.result) == 2
    winners = await winners_of(app)
    assert {w.member_id for w in winners} == {(await member_of(app, EMMA)).id, (await member_of(app, SARA)).id}
    vouchers = await rows(app, Voucher)
    assert sorted(v.source for v in vouchers) == ["draw", "draw"] and all(v.points == 0 for v in vouchers)
    # A purchase after the close enters nothing.
    await chat.say(OWNER, "/award @layla 500")
    assert len(await rows(app, DrawEntry)) == 2
    await chat.deliver_outbox()
    for person in (EMMA, SARA):
        won = chat.standin.messages(person.id)[-1]
        assert won.kind == "photo" and draw.seed in won.text
    report = chat.standin.messages(OWNER.id)[-1].text
    assert f"Draw #{draw.id} Spring draw has closed." in report and "Entrants: 2, entries: 3." in report
    assert draw.seed in report and f"wafa draw verify {draw.id}" in report
    # verify recomputes it; an outsider does too, from what is published alone.
    check = await draws.verify(app.ctx, draw.id)
    assert check.ok and check.expected == draw.result
    public = await draws.published(app.ctx, draw.id)
    assert hashlib.sha256(public["seed"].encode()).hexdigest() == public["commitment"]
    assert outsider_winners(public["seed"], public["entries"], public["winners"]) == public["result"]
    assert {a.action for a in await rows(app, AuditEntry)} >= {"draw_open", "draw_close"}
    # The member's copy of their data and the owner's export have it too.
    mine = json.loads((await chat.say(EMMA, "/mydata"))[-1].document.decode("utf-8"))  # type: ignore[union-attr]
    assert mine["prize_draws"]["entries"] == [{"draw": draw.id, "tickets": 2}]
    assert mine["prize_draws"]["wins"][0]["draw"] == draw.id
    documents = [m for m in await chat.say(OWNER, "/export") if m.kind == "document"]
    [entries_csv] = [m for m in documents if m.filename and m.filename.startswith("wafa-draw_entries-")]
    assert "purchase_entry_id" in entries_csv.document.decode("utf-8-sig")  # type: ignore[union-attr]


async def test_tampering_with_a_closed_draw_is_caught_by_verify(chat: Chat, app: App, clock: FakeClock) -> None:
    await seed_rewards(app.ctx)
    for person in (EMMA, LAYLA, SARA):
        await chat.say(person, "/start")
    await set_up_draw(chat, window="48h", rule="purchase", prizes="coffee", winners="1")
    for person in (EMMA, LAYLA, SARA):
        await chat.say(OWNER, f"/award @{person.username} 10")
    clock.advance(hours=49)
    await run_job(app, "draws", None)
    [draw] = await rows(app, Draw)
    assert (await draws.verify(app.ctx, draw.id)).ok
    async with app.ctx.uow() as uow:
        stored = await uow.draws.by_id(draw.id)
        stored.seed = "0" * 64  # someone edits the seed afterwards
        await uow.commit()
    check = await draws.verify(app.ctx, draw.id)
    assert not check.ok and not check.commitment_ok


async def test_no_entries_closes_cleanly_and_few_entrants_all_win(chat: Chat, app: App, clock: FakeClock) -> None:
    await seed_rewards(app.ctx)
    await chat.say(EMMA, "/start")
    await set_up_draw(chat, window="48h", rule="purchase", prizes="coffee", winners="3")
    clock.advance(hours=49)
    assert "1 draw(s) closed, 0 winner(s) drawn" in await run_job(app, "draws", None)
    await chat.deliver_outbox()
    assert "Nobody entered, so there is no winner and nothing was given." in chat.standin.messages(OWNER.id)[-1].text
    assert await rows(app, Voucher) == []
    assert (await draws.verify(app.ctx, (await rows(app, Draw))[0].id)).ok
    # A second draw for 3 winners with 1 entrant: that entrant wins once, the report says so.
    await set_up_draw(chat, window="48h", rule="purchase", prizes="coffee", winners="3")
    await chat.say(OWNER, "/award @emma_w 20")
    await chat.say(OWNER, "/award @emma_w 30")
    clock.advance(hours=49)
    assert "1 winner(s) drawn" in await run_job(app, "draws", None)
    await chat.deliver_outbox()
    report = chat.standin.messages(OWNER.id)[-1].text
    assert "Fewer entrants than winners: all 1 entrants win, 2 prize(s) stay unawarded." in report
    assert len(await rows(app, Voucher)) == 1


async def test_a_winner_who_blocked_the_bot_still_gets_the_prize_and_the_owner_is_told(
    chat: Chat, app: App, clock: FakeClock
) -> None:
    await seed_rewards(app.ctx)
    await chat.say(EMMA, "/start")
    await set_up_draw(chat, window="48h", rule="purchase", prizes="coffee", winners="1")
    await chat.say(OWNER, "/award @emma_w 20")
    emma_id = (await member_of(app, EMMA)).id
    async with app.ctx.uow() as uow:
        await uow.members.set_fields(emma_id, blocked_at=clock())
        await uow.commit()
    clock.advance(hours=49)
    await run_job(app, "draws", None)
    await run_job(app, "draws", None)
    [winner] = await winners_of(app)
    assert winner.told is False
    assert len(await rows(app, Voucher)) == 1  # given once, waiting in the account
    await chat.deliver_outbox()
    assert "blocked the bot: could not be told" in chat.standin.messages(OWNER.id)[-1].text


async def test_forget_takes_a_member_out_of_open_draws(chat: Chat, app: App, clock: FakeClock) -> None:
    await seed_rewards(app.ctx)
    await chat.say(EMMA, "/start")
    await chat.say(SARA, "/start")
    await set_up_draw(chat, window="48h", rule="purchase", prizes="coffee", winners="2")
    await chat.say(OWNER, "/award @emma_w 20")
    await chat.say(OWNER, "/award @sara_t 20")
    data = (await chat.say(EMMA, "/mydata"))[-1]
    assert data.kind == "document"
    confirm = (await chat.say(EMMA, "/forget"))[-1]
    await chat.press(EMMA, confirm, chat.standin.buttons(confirm)[0][1] or "")
    entries = await rows(app, DrawEntry)
    assert [e.member_id for e in entries] == [(await member_of(app, SARA)).id]
    clock.advance(hours=49)
    assert "1 winner(s) drawn" in await run_job(app, "draws", None)


async def test_bad_draw_input_is_answered_and_opens_nothing(chat: Chat, app: App) -> None:
    await seed_rewards(app.ctx)
    await chat.reply_text(OWNER, "/draw")
    await chat.reply_text(OWNER, "Summer")
    assert "is not an entry window" in await chat.reply_text(OWNER, "forever")
    assert "is not an entry window" in await chat.reply_text(OWNER, "2020-01-01")
    question = (await chat.say(OWNER, "3d"))[0]
    await chat.press(OWNER, question, button(chat, question, "One entry per amount spent"))
    assert "is not an amount" in await chat.reply_text(OWNER, "-5")
    await chat.reply_text(OWNER, "100")
    assert "neither a number of points nor an active reward" in await chat.reply_text(OWNER, "caviar")
    await chat.reply_text(OWNER, "coffee")
    assert "is not a number of winners" in await chat.reply_text(OWNER, "0")
    summary = (await chat.say(OWNER, "1"))[-1]
    assert "Cancelled" in await chat.reply_text(OWNER, "/cancel")
    await chat.press_raw(OWNER, summary, button(chat, summary, "✅ Local rules allow this draw: open it"))
    assert await rows(app, Draw) == []
    assert "What is it called?" not in await chat.reply_text(EMMA, "/draw")  # customers cannot
