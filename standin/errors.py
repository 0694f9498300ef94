"""Refusals: the ``{"ok": false, ...}`` answers Telegram gives, with its wording."""

from __future__ import annotations

from typing import Any


class TelegramErrorReply(Exception):
    """A refusal the stand-in answers with, carried up to :meth:`BotAPIStandIn.handle`."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> TelegramErrorReply:
    return TelegramErrorReply(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> TelegramErrorReply:
    return TelegramErrorReply(403, f"Forbidden: {reason}")


UNAUTHORIZED = TelegramErrorReply(401, "Unauthorized")
