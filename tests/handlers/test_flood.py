"""The per-user budget: the excess is answered once with "slow down" in the
user's language, then ignored for a while and counted; owners are not limited."""
from __future__ import annotations

from bot.app import App
from bot.telegram.flood import CAPACITY, MUTE_SECONDS, REFILL_PER_SECOND, UserBudget
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat

SLOW_DOWN = {
    "en": "You are sending messages faster than I can answer.",
    "fa": "پیام‌ها را سریع‌تر از آن می‌فرستید",
    "ar": "أنت ترسل الرسائل أسرع مما أستطيع الرد عليها",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_refills_and_a_mute_lasts_its_time() -> None:
    budget = UserBudget(capacity=3, refill_per_second=1, mute_seconds=10)
    assert [budget.take(1, 0.0) for _ in range(5)] == ["pass", "pass", "pass", "warn", "drop"]
    assert budget.take(2, 0.0) == "pass"  # another user has their own bucket
    assert budget.take(1, 9.9) == "drop"
    assert [budget.take(1, 10.0) for _ in range(4)] == ["pass", "pass", "pass", "warn"]  # refilled while muted


def test_quiet_users_are_forgotten() -> None:
    budget = UserBudget(capacity=2, refill_per_second=1, mute_seconds=10)
    for user in range(999):
        budget.take(user, 0.0)
    budget.take(5000, 100.0)  # the thousandth update sweeps: everyone else is full again
    assert len(budget) == 1


async def test_a_flooder_is_told_once_then_ignored_and_counted(chat: Chat, app: App) -> None:
    clock = Clock()
    app.flood_guard.clock = clock
    assert (CAPACITY, REFILL_PER_SECOND, MUTE_SECONDS) == (20, 1.0, 60.0)  # the README states these
    await chat.say(SARA, "/start")  # one update of her budget
    replies = [await chat.say(SARA, "/balance") for _ in range(CAPACITY + 5)]
    answered = [r for r in replies if r]
    assert len(answered) == CAPACITY  # 19 balances and the one "slow down"
    assert all("موجودی" in r[0].text for r in answered[:-1])
    assert SLOW_DOWN["fa"] in answered[-1][0].text
    assert app.flood_guard.stats.limited == 6 and app.flood_guard.stats.warned == 1
    assert "wafa_updates_limited_total 6.0" in app.metrics.render().decode()

    clock.now += MUTE_SECONDS - 1
    assert await chat.say(SARA, "/balance") == []  # still ignored
    clock.now += 1
    assert "موجودی" in (await chat.say(SARA, "/balance"))[0].text
    assert app.flood_guard.stats.limited == 7


async def test_the_warning_speaks_the_members_language_and_a_button_gets_it_as_an_alert(
    chat: Chat, app: App
) -> None:
    app.flood_guard.clock = Clock()
    welcome = (await chat.say(LAYLA, "/start"))[0]
    for _ in range(CAPACITY - 1):
        await chat.say(LAYLA, "/help")
    await chat.press(LAYLA, welcome, chat.standin.buttons(welcome)[0][1] or "")
    answer = chat.last_callback_answer()
    assert SLOW_DOWN["ar"] in answer.text and answer.show_alert
    assert app.flood_guard.stats.warned == 1


async def test_owners_are_not_limited_and_one_flooder_leaves_others_alone(chat: Chat, app: App) -> None:
    app.flood_guard.clock = Clock()
    for _ in range(CAPACITY + 5):
        assert await chat.say(OWNER, "/help")
    assert app.flood_guard.stats.limited == 0
    for _ in range(CAPACITY + 1):
        await chat.say(EMMA, "/help")
    assert SLOW_DOWN["en"] in chat.standin.messages(EMMA.id)[-1].text
    assert "/balance" in (await chat.say(SARA, "/help"))[0].text
