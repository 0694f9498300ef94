"""Everything the fake Telegram remembers for one bot, and the activity signal waiters watch.

The Bot API areas (one module each) build on this in a single line of
inheritance -- state, faults, updates, chats, messages, files, callbacks,
the user side, commands, webhooks -- each adding its methods to what the
earlier ones provide; :class:`standin.api.BotAPIStandIn` is the last link.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from typing import Any

from standin.records import AnsweredCallback, BotMessage, InjectedFailure, StoredFile

DEFAULT_BOT_ID = 7000000001
DEFAULT_BOT_USERNAME = "wafa_demo_bot"
DEFAULT_BOT_FIRST_NAME = "Wafa"

# Without an explicit allowed_updates Telegram sends every kind except chat_member and
# reactions; of the kinds the stand-in produces, that is all of them.
DEFAULT_ALLOWED_UPDATES = frozenset({"message", "edited_message", "channel_post", "callback_query", "my_chat_member"})

MessageListener = Callable[[BotMessage], None]


class StandInState:
    """The stand-in's memory: users, chats, messages, files, the update queue, limits."""

    def __init__(
        self,
        *,
        bot_id: int = DEFAULT_BOT_ID,
        username: str = DEFAULT_BOT_USERNAME,
        first_name: str = DEFAULT_BOT_FIRST_NAME,
        token: str | None = None,
        strict_ampersand: bool = True,
    ) -> None:
        """``token=None`` accepts any token shaped ``<digits>:<secret>``; a string accepts only itself."""
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self.token = token
        self.strict_ampersand = strict_ampersand

        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[BotMessage] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.sends_per_chat: Counter[int] = Counter()
        self.webhook_url = ""

        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}  # groups, supergroups and channels
        self._chat_members: defaultdict[int, set[int]] = defaultdict(set)  # users in each group or channel
        self._not_admin: set[int] = set()  # channels the bot is in without admin rights
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._next_message_id: Counter[int] = Counter()
        self._user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._bot_messages: dict[tuple[int, int], BotMessage] = {}
        self._history: defaultdict[int, list[BotMessage]] = defaultdict(list)
        self._files: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._open_callbacks: dict[str, dict[str, Any]] = {}
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._listeners: list[MessageListener] = []

        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._poll_release = 0

        self._failures: list[InjectedFailure] = []
        self._global_limit: int | None = None
        self._chat_limit: int | None = None
        self._global_window: deque[float] = deque()
        self._chat_windows: defaultdict[int, deque[float]] = defaultdict(deque)

        self._changed = asyncio.Event()
        self._active_calls = 0
        self._last_activity = time.monotonic()

    # ----------------------------------------------------------------- identity

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def accepts_token(self, token: str) -> bool:
        if self.token is not None:
            return token == self.token
        bot_id, colon, secret = token.partition(":")
        return bot_id.isdigit() and bool(colon) and bool(secret)

    def _wake(self) -> None:
        """Let every waiter re-check its condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _mark_activity(self) -> None:
        """Something happened that an idle bot would not do; restarts wait_until_idle's quiet period."""
        self._last_activity = time.monotonic()
        self._wake()

    async def _wait_for_change(self, timeout: float) -> None:
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout)

    def _allocate_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] += 1
        return self._next_message_id[chat_id]
