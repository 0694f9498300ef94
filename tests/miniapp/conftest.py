from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.app import App
from bot.http.initdata import sign
from tests.support import TOKEN, Person


def init_data(person: Person, when: Any, *, token: str = TOKEN) -> str:
    user: dict[str, Any] = {"id": person.id, "first_name": person.first_name}
    if person.language_code:
        user["language_code"] = person.language_code
    if person.username:
        user["username"] = person.username
    return sign(token, user, auth_date=when, query_id="AAHdF6IQAAAAAN0XohDhrOrc")


def tma(person: Person, when: Any, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"tma {init_data(person, when, **kwargs)}"}


@pytest.fixture
async def http(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://wafa.test") as client:
        yield client
