"""Pictures are uploaded once: later sends name Telegram's file_id, and a
refused id falls back to an upload (issue 16)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.app import App
from standin import BotAPIStandIn, UploadedFile
from storage.models import PhotoFile
from tests.support import EMMA, SARA, Chat, FakeClock, make_app


def photo_sends(standin: BotAPIStandIn) -> list[dict[str, Any]]:
    return standin.calls_to("sendPhoto")


def uploaded(params: dict[str, Any]) -> bool:
    return isinstance(params["photo"], UploadedFile) or str(params["photo"]).startswith("attach://")


async def stored_ids(app: App) -> int:
    async with app.ctx.uow(readonly=True) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(PhotoFile)) or 0)


async def test_the_card_is_uploaded_once_then_sent_by_file_id(chat: Chat, app: App, standin: BotAPIStandIn) -> None:
    await chat.say(EMMA, "/start")
    first = (await chat.say(EMMA, "/balance"))[-1]
    second = (await chat.say(EMMA, "/balance"))[-1]
    sends = photo_sends(standin)
    assert [uploaded(params) for params in sends] == [True, False]
    assert sends[1]["photo"] == first.file.file_id  # type: ignore[union-attr]
    assert first.photo == second.photo and first.photo  # the same picture reached the member
    assert "Balance" in (second.text or "")  # the numbers travel in the caption
    assert await stored_ids(app) == 1
    await chat.say(SARA, "/start")
    await chat.say(SARA, "/balance")  # another member: another picture, uploaded
    assert uploaded(photo_sends(standin)[-1]) and await stored_ids(app) == 2


async def test_a_refused_file_id_is_uploaded_again(
    chat: Chat, app: App, standin: BotAPIStandIn, clock: FakeClock, db_url: str
) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(EMMA, "/balance")
    # Another bot (a new token) or a reset server: the kept file_id means nothing there.
    other = BotAPIStandIn()
    restarted = await make_app(db_url, other, clock=clock)
    try:
        replies = await Chat(restarted, other).say(EMMA, "/balance")
    finally:
        await restarted.close()
    sends = photo_sends(other)
    assert [uploaded(params) for params in sends] == [False, True]  # the kept id, refused; then the upload
    assert replies[-1].photo and "Balance" in (replies[-1].text or "")
    async with app.ctx.uow(readonly=True) as uow:
        kept = await uow.session.scalar(select(PhotoFile.file_id))
    assert kept == replies[-1].file.file_id  # type: ignore[union-attr]
