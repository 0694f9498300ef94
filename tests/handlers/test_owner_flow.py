"""The owner's view and the staff list through the real dispatcher: /stats, /export, /staff,
role checks for every admin command, and the issue's "done when" scenario."""
from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from bot.app import App
from standin import BotMessage
from storage.models import AuditEntry, Base, LedgerEntry, Member, Staff
from tests.handlers.test_core_flow import member_of
from tests.support import CASHIER, EMMA, LAYLA, OWNER, SARA, Chat, Person

UNKNOWN = "I don't know that command. Send /help to see what I can do."
PNG = b"\x89PNG\r\n\x1a\n"
REZA = Person(1004, "رضا", "fa", "reza_t")


def unknown(app: App, lang: str) -> str:
    """The unknown-command answer in `lang`: exactly what anyone without the role gets."""
    return app.i18n.gettext(UNKNOWN, locale=lang)


def csv_rows(message: BotMessage) -> list[list[str]]:
    data = message.document
    assert data is not None and data.startswith("\ufeff".encode())  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def audit(app: App) -> list[tuple[int, str]]:
    async with app.ctx.uow() as uow:
        return [(a.actor_id, a.action) for a in (await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))]


# -- /stats ------------------------------------------------------------------------------
async def test_stats_text_and_chart(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(OWNER, "/award @emma_w 40")
    replies = await chat.say(OWNER, "/stats")
    assert len(replies) == 2
    text, chart = replies
    assert "Wafa Café</b> KPIs" not in text.text and "Wafa Café KPIs · last 30 days" in text.text
    assert "Members: 1 · new: 1" in text.text and "Repeat-purchase rate: 0%" in text.text
    assert "NPS: no answers yet" in text.text and "Outstanding points (the program's liability): 60" in text.text
    assert chart.kind == "photo" and chart.photo is not None and chart.photo.startswith(PNG)
    assert "at a glance" in chart.text
    assert any(c.get("action") == "upload_photo" for c in chat.standin.calls_to("sendChatAction"))
    assert (OWNER.id, "stats") in await audit(app)


async def test_stats_in_persian_for_any_digits(chat: Chat, app: App) -> None:
    owner = Person(OWNER.id, "امید", "fa", "omid")
    text = (await chat.say(owner, "/stats ۷"))[0].text
    assert "۷ روز گذشته" in text and "اعضا: ۰" in text


@pytest.mark.parametrize("days", ["abc", "0", "3651", "7 8", "-3", "1.5"])
async def test_bad_stats_input_is_answered(chat: Chat, app: App, days: str) -> None:
    replies = await chat.say(OWNER, f"/stats {days}")
    assert len(replies) == 1 and "is not a number of days" in replies[0].text and "1 to 3,650" in replies[0].text
    assert await audit(app) == []


# -- /export -----------------------------------------------------------------------------
async def test_export_sends_three_csv_files_with_bom_and_header(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    await chat.say(LAYLA, "/start")
    await chat.say(OWNER, "/award @sara_t 120.50 =HYPERLINK(\"http://x\")")
    replies = await chat.say(OWNER, "/export")
    documents = [m for m in replies if m.kind == "document"]
    assert [m.filename for m in documents] == [
        "wafa-members-2026-03-10.csv", "wafa-ledger-2026-03-10.csv", "wafa-surveys-2026-03-10.csv"
    ]
    members, ledger, surveys = (csv_rows(m) for m in documents)
    assert members[0][:3] == ["id", "code", "first_name"] and len(members) == 3
    assert {row[2] for row in members[1:]} == {"سارا", "ليلى"}  # Arabic and Persian intact
    assert ledger[0] == ["id", "created_at", "member_id", "member_code", "kind", "delta", "amount", "note",
                         "actor_id", "expires_at"]
    purchase = next(row for row in ledger[1:] if row[4] == "purchase")
    assert purchase[5:8] == ["120", "120.50", "'=HYPERLINK(\"http://x\")"]  # a formula is defused, not run
    assert purchase[1] == "2026-03-10 15:30:00"  # merchant time (Asia/Tehran in the tests)
    assert len(surveys) == 1 and surveys[0][0] == "id"  # header only
    assert "2 rows" in documents[0].text and "Done." in replies[-1].text
    assert (OWNER.id, "export") in await audit(app)


async def test_export_takes_no_arguments(chat: Chat) -> None:
    replies = await chat.say(OWNER, "/export all")
    assert len(replies) == 1 and "takes no arguments" in replies[0].text


async def test_large_tables_are_paged_and_split_into_parts(app: App, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.services import exports, members

    for i in range(25):
        await members.enrol(app.ctx, members.TelegramProfile(9000 + i, f"عضو {i}", None, None, "fa"))
    files = await exports.export_csv(app.ctx, actor_id=OWNER.id, directory=tmp_path, page_size=4, part_limit=200)
    ledger = [f for f in files if f.table == "ledger"]
    assert len(ledger) > 1 and all(f.parts == len(ledger) for f in ledger)
    assert [f.name for f in ledger][:2] == ["wafa-ledger-2026-03-10-part1.csv", "wafa-ledger-2026-03-10-part2.csv"]
    rows = []
    for part in ledger:
        with part.path.open(encoding="utf-8-sig", newline="") as handle:
            content = list(csv.reader(handle))
        assert content[0][0] == "id"  # every part has its header
        rows += content[1:]
        assert len(content) - 1 == part.rows
    assert len(rows) == 25 and len({r[0] for r in rows}) == 25  # every entry once, none twice


# -- /staff ------------------------------------------------------------------------------
async def test_owner_adds_lists_and_removes_staff(chat: Chat, app: App) -> None:
    await chat.say(CASHIER, "/start")
    await chat.say(EMMA, "/start")
    code = (await member_of(app, EMMA)).code
    assert await chat.reply_text(CASHIER, f"/award {code} 10") == unknown(app, "fa")
    added = await chat.reply_text(OWNER, f"/staff add {CASHIER.id}")
    assert "is staff now and can use /award, /member" in added and "Cyrus" in added
    menus = [c for c in chat.standin.calls_to("setMyCommands") if c.get("scope", {}).get("chat_id") == CASHIER.id]
    assert menus and all("award" in {cmd["command"] for cmd in c["commands"]} for c in menus)
    assert "stats" not in {cmd["command"] for c in menus for cmd in c["commands"]}
    await chat.deliver_outbox()
    assert "کارکنان کافه وفا" in chat.standin.messages(CASHIER.id)[-1].text  # told, in Persian
    assert "۱۰ امتیاز" in await chat.reply_text(CASHIER, f"/award {code} ۱۰")
    assert await chat.reply_text(CASHIER, "/stats") == unknown(app, "fa")  # staff, not owner
    listing = await chat.reply_text(OWNER, "/staff")
    assert "Staff</b> (1 person)" not in listing and "Staff (1 person)" in listing and "@cyrus_cash" in listing
    assert "already staff" in await chat.reply_text(OWNER, "/staff add @cyrus_cash")

    calls_before = len(chat.standin.calls_to("setMyCommands"))
    assert "is no longer staff" in await chat.reply_text(OWNER, "/staff remove ۶۰۰")
    reset = chat.standin.calls_to("setMyCommands")[calls_before:]
    assert reset and all("award" not in {cmd["command"] for cmd in c["commands"]} for c in reset)
    assert await chat.reply_text(CASHIER, f"/award {code} 10") == unknown(app, "fa")
    assert "is not staff" in await chat.reply_text(OWNER, f"/staff remove {CASHIER.id}")
    assert "No staff yet" in await chat.reply_text(OWNER, "/staff")
    cashier = await member_of(app, CASHIER)
    async with app.ctx.uow() as uow:
        entries = list(await uow.session.scalars(select(AuditEntry).where(AuditEntry.action.like("staff%"))))
    assert [(a.actor_id, a.action, a.member_id, a.details["telegram_id"]) for a in entries] == [
        (OWNER.id, "staff_add", cashier.id, CASHIER.id), (OWNER.id, "staff_remove", cashier.id, CASHIER.id)
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/staff add", "Usage:"),
        ("/staff hire 600", "Usage:"),
        ("/staff add 600 700", "Usage:"),
        ("/staff add 0", "is not a Telegram user id"),
        ("/staff add -42", "is not a Telegram user id"),
        ("/staff add @nobody_here", "No member matches"),
        (f"/staff add {OWNER.id}", "is an owner"),
        (f"/staff remove {OWNER.id}", "is an owner"),
    ],
)
async def test_bad_staff_input_is_answered_and_changes_nothing(chat: Chat, app: App, command: str, expected: str) -> None:
    assert expected in await chat.reply_text(OWNER, command)
    async with app.ctx.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Staff)) == 0
    assert await audit(app) == []


# -- role checks -------------------------------------------------------------------------
# Every admin command (SPEC §4), with the least role that may use it.
ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("/award {code} 10", "staff"),
    ("/member {code}", "staff"),
    ("/redeem CAF-2345678", "staff"),
    ("/setbirthday {code} 1990-05-17", "staff"),
    ("/stamp {code}", "staff"),
    ("/adjust {code} +10 goodwill", "owner"),
    ("/adjust {code} -5 correction", "owner"),
    ("/campaign 2 48h", "owner"),
    ("/campaign off", "owner"),
    ("/rewards_admin", "owner"),
    ("/setup", "owner"),
    ("/program", "owner"),
    ("/broadcast", "owner"),
    ("/stats", "owner"),
    ("/stats 7", "owner"),
    ("/export", "owner"),
    ("/staff", "owner"),
    ("/staff add 4242", "owner"),
    ("/staff remove {staff_id}", "owner"),
    ("/actions", "owner"),
    ("/surprise all 1 10", "owner"),
    ("/draw", "owner"),
]
RANK = {"nobody": -1, "customer": 0, "staff": 1, "owner": 2}


def test_the_role_table_covers_every_admin_command_in_the_menu() -> None:
    from bot.telegram.commands import MENU

    table = {command.split()[0].lstrip("/"): needs for command, needs in ADMIN_COMMANDS}
    menu = {item.name: item.audience for item in MENU if item.audience != "customer"}
    assert table == menu


async def snapshot(app: App) -> dict[str, object]:
    async with app.ctx.uow() as uow:
        counts: dict[str, object] = {
            table.name: await uow.session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }
        counts["balances"] = sorted((await uow.session.execute(select(Member.id, Member.balance))).all())
        counts["ledger_sum"] = await uow.session.scalar(select(func.coalesce(func.sum(LedgerEntry.delta), 0)))
    return counts


@pytest.mark.parametrize(("command", "needs"), ADMIN_COMMANDS)
async def test_admin_commands_answer_others_like_unknown_commands(
    chat: Chat, app: App, command: str, needs: str
) -> None:
    stranger = Person(3003, "Zed", "en", "zed_x")  # never joined
    await chat.say(EMMA, "/start")
    await chat.say(CASHIER, "/start")
    async with app.ctx.uow() as uow:
        await uow.staff.add(CASHIER.id, added_by=OWNER.id, now=app.ctx.now())
        await uow.commit()
    text = command.format(code=(await member_of(app, EMMA)).code, staff_id=CASHIER.id)
    people = {"nobody": stranger, "customer": EMMA, "staff": CASHIER}
    for role, person in people.items():
        if RANK[role] >= RANK[needs]:
            continue
        before = await snapshot(app)
        replies = await chat.say(person, text)
        assert [m.text for m in replies] == [unknown(app, person.language_code or "en")], (role, text)
        assert all(m.kind == "text" for m in replies)
        assert await snapshot(app) == before, (role, text)
    replies = await chat.say(OWNER, text)
    assert replies and replies[0].text != UNKNOWN


# -- the "done when" ---------------------------------------------------------------
async def test_done_when_invite_join_purchase_feedback_alert_stats(chat: Chat, app: App) -> None:
    await chat.say(OWNER, "/help")
    await chat.say(EMMA, "/start")
    invite = (await chat.say(EMMA, "/invite"))[0]
    link = next(word for word in invite.text.split() if "?start=" in word).strip("\u2068\u2069")
    payload = parse_qs(urlsplit(link).query)["start"][0]
    await chat.say(REZA, f"/start {payload}")  # what Telegram sends when Reza taps the link
    reza = await member_of(app, REZA)
    emma = await member_of(app, EMMA)
    assert reza.referrer_id == emma.id
    await chat.say(OWNER, f"/award {reza.code} 120")
    await chat.say(OWNER, f"/award {reza.code} 30")
    assert (await member_of(app, EMMA)).balance == 20 + 100  # rewarded once
    assert (await member_of(app, REZA)).balance == 20 + 120 + 50 + 30
    survey = (await chat.say(REZA, "/feedback"))[0]
    await chat.press(REZA, survey, dict(chat.standin.buttons(survey))["۳"])
    await chat.say(REZA, "قهوه سرد بود")
    await chat.deliver_outbox()
    alert = chat.standin.messages(OWNER.id)[-1].text
    assert "Unhappy customer: رضا" in alert and f"/member {reza.code}" in alert and "قهوه سرد بود" in alert
    text, chart = await chat.say(OWNER, "/stats")
    assert "NPS: \u2068−100\u2069 · answers: 1 (promoters 0, passives 0, detractors 1)" in text.text
    assert "Referrals: joined 1 · first purchase 1 · rewarded 1" in text.text
    assert chart.photo is not None and chart.photo.startswith(PNG)
