"""setWebhook, deleteWebhook and getWebhookInfo: recorded, never pushed (the stand-in serves getUpdates)."""

from __future__ import annotations

from typing import Any

from standin.commands import CommandMenu
from standin.errors import bad_request
from standin.params import Params


class Webhooks(CommandMenu):
    """The webhook URL the bot set; while one is set, getUpdates answers 409 as Telegram does."""

    async def _set_webhook(self, params: Params) -> bool:
        """Records the URL only: the stand-in never pushes updates, it serves getUpdates."""
        url = params.text("url") or ""
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = url
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = ""
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}
