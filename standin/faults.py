"""Fault injection and rate limits: make calls fail the way Telegram fails under load."""

from __future__ import annotations

import math
import time

from standin.errors import TelegramErrorReply
from standin.params import Params
from standin.records import InjectedFailure
from standin.state import StandInState

PAID_BROADCAST_LIMIT = 1000  # messages per second with allow_paid_broadcast (Bot API: sendMessage)


def _now() -> float:
    """The clock of the send windows (a test can stop it)."""
    return time.monotonic()


class FaultInjection(StandInState):
    """Failures armed by tests and sliding-window send limits, checked before a call runs."""

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` (optionally only for ``chat_id``) fail as given.

        ``description`` is sent verbatim, e.g. ``"Too Many Requests: retry after 5"``.
        """
        self._failures.append(InjectedFailure(method.lower(), status, description, retry_after, times, chat_id))

    def rate_limit(
        self,
        global_per_second: int | None = None,
        per_chat_per_second: int | None = None,
        *,
        paid_per_second: int | None = PAID_BROADCAST_LIMIT,
    ) -> None:
        """Answer 429 to sends beyond these rates over a sliding one-second window (None lifts a limit).

        Counts sendMessage, sendPhoto and sendDocument that were accepted.
        Sends with ``allow_paid_broadcast`` ignore ``global_per_second`` and
        are held to ``paid_per_second`` instead (Telegram: up to 1000/s);
        each one beyond the free ``global_per_second`` is counted in
        :attr:`paid_messages` (Telegram charges 0.1 Star for it).
        """
        self._global_limit = global_per_second
        self._chat_limit = per_chat_per_second
        self._paid_limit = paid_per_second

    def _raise_injected_failure(self, method: str, params: Params) -> None:
        chat_id = params.integer("chat_id")
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                raise TelegramErrorReply(failure.status, failure.description, retry_after=failure.retry_after)

    def _take_send_slot(self, chat_id: int, *, paid: bool = False) -> None:
        now = _now()
        free = (self._global_window, self._global_limit)
        chat = (self._chat_windows[chat_id], self._chat_limit)
        paid_window = (self._paid_window, self._paid_limit)
        for window, _ in (free, chat, paid_window):
            while window and now - window[0] >= 1.0:
                window.popleft()
        checks = (chat, paid_window) if paid else (free, chat)
        for window, limit in checks:
            if limit is not None and len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + 1.0 - now))
                raise TelegramErrorReply(
                    429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
                )
        chat[0].append(now)
        if paid:
            paid_window[0].append(now)
        if paid and free[1] is not None and len(free[0]) >= free[1]:
            self.paid_messages += 1  # beyond the free rate: this one costs Stars
        else:
            free[0].append(now)
        self.sends_per_chat[chat_id] += 1
