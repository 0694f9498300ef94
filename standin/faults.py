"""Fault injection and rate limits: make calls fail the way Telegram fails under load."""

from __future__ import annotations

import math
import time

from standin.errors import TelegramErrorReply
from standin.params import Params
from standin.records import InjectedFailure
from standin.state import StandInState


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

    def rate_limit(self, global_per_second: int | None = None, per_chat_per_second: int | None = None) -> None:
        """Answer 429 to sends beyond these rates over a sliding one-second window (None lifts a limit).

        Counts sendMessage, sendPhoto and sendDocument that were accepted.
        """
        self._global_limit = global_per_second
        self._chat_limit = per_chat_per_second

    def _raise_injected_failure(self, method: str, params: Params) -> None:
        chat_id = params.integer("chat_id")
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                raise TelegramErrorReply(failure.status, failure.description, retry_after=failure.retry_after)

    def _take_send_slot(self, chat_id: int) -> None:
        now = time.monotonic()
        windows = ((self._global_window, self._global_limit), (self._chat_windows[chat_id], self._chat_limit))
        for window, limit in windows:
            while window and now - window[0] >= 1.0:
                window.popleft()
            if limit is not None and len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + 1.0 - now))
                raise TelegramErrorReply(
                    429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
                )
        for window, _ in windows:
            window.append(now)
        self.sends_per_chat[chat_id] += 1
