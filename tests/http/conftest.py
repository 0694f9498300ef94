from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import App
from bot.services import api_keys


@pytest.fixture
async def http(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """The real ASGI app of `app`, called in process."""
    transport = httpx.ASGITransport(app=app.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://wafa.test") as client:
        yield client


@pytest.fixture
async def key(app: App) -> str:
    """A key with every scope."""
    return await api_keys.create_key(app.ctx, "pos-1")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
