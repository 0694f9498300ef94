"""The update queue and getUpdates long polling (offsets, allowed_updates, 409 on a second poller)."""

from __future__ import annotations

import copy
import time
from typing import Any

from standin.errors import TelegramErrorReply
from standin.faults import FaultInjection
from standin.params import Params
from standin.state import DEFAULT_ALLOWED_UPDATES


class UpdateQueue(FaultInjection):
    """Updates waiting for the bot, handed out by getUpdates and confirmed by its offset."""

    def _emit(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue an update, unless the bot's allowed_updates excludes it (Telegram drops those)."""
        if kind not in self._allowed_updates:
            return
        self._updates.append({"update_id": self._next_update_id, kind: payload})
        self._next_update_id += 1
        self._mark_activity()


    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates the bot has not confirmed yet (delivered or not)."""
        return copy.deepcopy(self._updates)

    async def wait_until_idle(self, *, quiet: float = 0.2, timeout: float = 5.0) -> None:
        """Wait until every update is confirmed and the bot has made no call for ``quiet`` seconds.

        Use it when the expected effect is not a new message (an edit, an
        answered callback, silence); long-polling getUpdates does not count as
        activity.
        """
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = bool(self._updates) or self._active_calls > 0
            quiet_for = now - self._last_activity
            if not busy and quiet_for >= quiet:
                return
            remaining = deadline - now
            if remaining <= 0:
                raise TimeoutError(
                    f"not idle after {timeout}s: {len(self._updates)} unconfirmed update(s), "
                    f"{self._active_calls} bot call(s) in flight"
                )
            await self._wait_for_change(min(remaining, quiet if busy else quiet - quiet_for))

    def release_long_polls(self) -> None:
        """Answer pending getUpdates now (with what is queued), e.g. before the server shuts down."""
        self._poll_release += 1
        self._wake()

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise TelegramErrorReply(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.integer("timeout") or 0, 0)
        allowed = params.structured("allowed_updates", "allowed updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        self._confirm(offset)

        # A newer getUpdates ends an older one with 409, as Telegram does.
        self._poll_generation += 1
        generation, release = self._poll_generation, self._poll_release
        self._wake()
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise TelegramErrorReply(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            remaining = deadline - time.monotonic()
            if self._updates or remaining <= 0 or release != self._poll_release:
                return copy.deepcopy(self._updates[:limit])
            await self._wait_for_change(remaining)

    def _confirm(self, offset: int) -> None:
        """Forget updates below a positive offset; a negative one keeps only the last -offset."""
        before = len(self._updates)
        if offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        if len(self._updates) != before:
            self._mark_activity()
