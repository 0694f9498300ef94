"""The Telegram webhook route (`wafa webhook`): the secret header checked in
constant time, then the raw update handed to the Telegram layer's function,
handled inside the request (Telegram counts it delivered only then)."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response

from bot.http.deps import TelegramWebhook
from bot.http.errors import error_response

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def create_router(webhook: TelegramWebhook) -> APIRouter:
    router = APIRouter(tags=["telegram"])
    expected = webhook.secret.encode()

    @router.post(webhook.path, include_in_schema=False)
    async def telegram_update(
        request: Request, secret: str | None = Header(default=None, alias=SECRET_HEADER)
    ) -> Response:
        if secret is None or not hmac.compare_digest(secret.encode(), expected):
            return error_response(401, "unauthenticated", "Wrong or missing secret token.")
        body = await request.body()
        try:
            await webhook.feed(body)
        except ValueError:  # not an Update (pydantic's ValidationError is a ValueError)
            return error_response(400, "bad_update", "The body is not a Telegram update.")
        return JSONResponse({"ok": True})

    return router
