"""The HTTP face: api.telegram.org's layout on loopback, plus a JSON control API for other processes."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from standin.api import BotAPIStandIn
from standin.errors import UNAUTHORIZED
from standin.files import MAX_UPLOAD_BYTES
from standin.records import UploadedFile


class StandInServer:
    """Serves a :class:`BotAPIStandIn` over HTTP the way api.telegram.org is laid out.

    ``/bot<token>/<method>`` for calls, ``/file/bot<token>/<path>`` for
    downloads, and a small JSON control API under ``/_standin/`` so another
    process can play the user.  Point the bot at it with
    ``TelegramAPIServer.from_base(url)``.
    """

    def __init__(self, core: BotAPIStandIn) -> None:
        self.core = core
        self.url: str | None = None
        self.app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        self.app.add_routes(
            [
                web.get("/bot{token}/{method}", self._api_call, allow_head=False),
                web.post("/bot{token}/{method}", self._api_call),
                web.get("/file/bot{token}/{path:.+}", self._download),
                web.post("/_standin/user", self._control_user),
                web.post("/_standin/send_text", self._control_send_text),
                web.post("/_standin/press", self._control_press),
                web.get("/_standin/messages", self._control_messages),
            ]
        )
        self._runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0 picks a free one) and return the base URL, e.g. ``http://127.0.0.1:45123``."""
        runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            self.core.release_long_polls()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _api_call(self, request: web.Request) -> web.Response:
        if not self.core.accepts_token(request.match_info["token"]):
            return web.json_response(UNAUTHORIZED.body(), status=401)
        status, body = await self.core.handle(request.match_info["method"], await self._read_params(request))
        return web.json_response(body, status=status)

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST" or not request.body_exists:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None  # Telegram ignores a body it cannot read; the method then reports what is missing
            if isinstance(body, dict):
                params.update(body)
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, FileField):
                    params[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
                else:
                    params[key] = value
        return params

    async def _download(self, request: web.Request) -> web.Response:
        if not self.core.accepts_token(request.match_info["token"]):
            return web.json_response(UNAUTHORIZED.body(), status=401)
        stored = self.core.file_by_path(request.match_info["path"])
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    @staticmethod
    async def _control(action: Callable[[], Any]) -> web.Response:
        """Run a control action; bad input answers 400 with the reason."""
        try:
            result = action()
            if inspect.isawaitable(result):
                result = await result
        except (KeyError, ValueError, TypeError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response(result)

    async def _control_user(self, request: web.Request) -> web.Response:
        body = await request.json()
        return await self._control(
            lambda: self.core.user(
                body["id"],
                body["first_name"],
                last_name=body.get("last_name"),
                username=body.get("username"),
                language_code=body.get("language_code"),
            )
        )

    async def _control_send_text(self, request: web.Request) -> web.Response:
        body = await request.json()
        return await self._control(
            lambda: self.core.send_text(body["user_id"], body["text"], chat_id=body.get("chat_id"))
        )

    async def _control_press(self, request: web.Request) -> web.Response:
        body = await request.json()
        return await self._control(
            lambda: self.core.press(body["user_id"], body["message_id"], body["data"], chat_id=body.get("chat_id"))
        )

    async def _control_messages(self, request: web.Request) -> web.Response:
        """``?chat_id=&after=N&timeout=S``: bot messages from index N, waiting up to S seconds for one."""
        query = request.query

        async def listing() -> list[dict[str, Any]]:
            chat_id, after = int(query["chat_id"]), int(query.get("after", 0))
            if "timeout" in query:
                with contextlib.suppress(TimeoutError):
                    await self.core.wait_for_messages(chat_id, 1, float(query["timeout"]), after=after)
            return [message.to_json() for message in self.core.messages(chat_id)[after:]]

        return await self._control(listing)
