"""An aiogram session wired straight to the stand-in: the bot in the same process, no sockets."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.base import BaseSession
from aiogram.methods.base import TelegramMethod, TelegramType
from aiogram.types import InputFile
from aiohttp import ClientResponseError, RequestInfo
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from standin.api import BotAPIStandIn
from standin.errors import UNAUTHORIZED
from standin.records import UploadedFile

if TYPE_CHECKING:
    from aiogram import Bot


class StandInSession(BaseSession):
    """An aiogram session that calls a :class:`BotAPIStandIn` directly: no sockets at all.

    Parameters are prepared exactly as aiogram's ``AiohttpSession`` prepares
    its form data, and the answer goes through ``check_response``, so the bot
    sees the same objects and exceptions as over HTTP.
    """

    def __init__(self, core: BotAPIStandIn, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.core = core

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        # A real request always suspends; without this a polling loop that gets an
        # immediate answer every time would never let other tasks run.
        await asyncio.sleep(0)
        if self.core.accepts_token(bot.token):
            status, body = await self.core.handle(method.__api_method__, await self._form(bot, method))
        else:
            status, body = 401, UNAUTHORIZED.body()
        response = self.check_response(bot=bot, method=method, status_code=status, content=self.json_dumps(body))
        return cast(TelegramType, response.result)

    async def _form(self, bot: Bot, method: TelegramMethod[TelegramType]) -> dict[str, Any]:
        """What ``AiohttpSession.build_form_data`` would post, with file parts read into memory."""
        files: dict[str, InputFile] = {}
        form: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                form[key] = prepared
        for key, input_file in files.items():
            data = b"".join([chunk async for chunk in input_file.read(bot)])
            form[key] = UploadedFile(input_file.filename or key, data)
        return form

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """Serve ``bot.download(...)`` from the stand-in's stored files."""
        match = re.search(r"/file/bot([^/]+)/(.+)$", url)
        stored = None
        if match is not None and self.core.accepts_token(match.group(1)):
            stored = self.core.file_by_path(match.group(2))
        if stored is None:
            if raise_for_status:
                request_info = RequestInfo(URL(url), "GET", CIMultiDictProxy(CIMultiDict()), URL(url))
                raise ClientResponseError(request_info, (), status=404, message="Not Found")
            yield json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()
            return
        for start in range(0, len(stored.data), chunk_size):
            yield stored.data[start : start + chunk_size]

    async def close(self) -> None:
        """Nothing to release: there is no connection."""
