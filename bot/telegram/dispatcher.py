"""The dispatcher: middlewares in order, then one router per feature."""
from __future__ import annotations

from typing import Any

from aiogram import Dispatcher, Router
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.utils.i18n import I18n

from bot.metrics import Metrics
from bot.telegram.errors import ReplyOnErrors
from bot.telegram.flood import FloodGuard
from bot.telegram.i18n import MemberLocaleMiddleware
from bot.telegram.metrics import CountUpdates
from bot.telegram.middlewares import PrivateChatsOnly, UserContext
from bot.telegram.retries import DuringHandling
from bot.telegram.routers import (
    actions_admin,
    adjust,
    balance,
    birthday,
    broadcast,
    campaign,
    conversations,
    draws,
    earn,
    fallback,
    help,
    history,
    insights,
    language,
    notifications,
    privacy,
    recovery,
    redeem,
    referrals,
    rewards,
    rewards_admin,
    setup,
    staff,
    stamps,
    start,
    surveys,
    team,
)
from bot.telegram.routers.notifications import ReachableAgain


def feature_routers() -> list[Router]:
    """Order matters: specific features first, the catch-all fallback last."""
    return [
        conversations.create_router(),  # a command ends a conversation in progress, then runs
        start.create_router(),
        language.create_router(),
        balance.create_router(),
        help.create_router(),
        privacy.create_router(),
        staff.create_router(),
        rewards.create_router(),
        history.create_router(),
        redeem.create_router(),
        adjust.create_router(),
        campaign.create_router(),
        rewards_admin.create_router(),
        setup.create_router(),
        birthday.create_router(),
        notifications.create_router(),
        broadcast.create_router(),
        referrals.create_router(),
        surveys.create_router(),
        insights.create_router(),
        team.create_router(),
        earn.create_router(),
        stamps.create_router(),
        actions_admin.create_router(),
        recovery.create_router(),
        draws.create_router(),
        fallback.create_router(),
    ]


def create_dispatcher(
    ctx: Any,
    i18n: I18n,
    storage: BaseStorage,
    isolation: BaseEventIsolation,
    *,
    metrics: Metrics | None = None,
    flood: FloodGuard | None = None,
) -> Dispatcher:
    dispatcher = Dispatcher(storage=storage, events_isolation=isolation)
    dispatcher["ctx"] = ctx
    if metrics is not None:
        dispatcher.update.outer_middleware(CountUpdates(metrics))  # first: every update counts
    dispatcher.update.outer_middleware(DuringHandling())  # replies from here on survive 429 and 5xx
    dispatcher.update.outer_middleware(flood or FloodGuard(ctx, i18n))  # before any database read
    dispatcher.update.outer_middleware(PrivateChatsOnly(i18n))
    dispatcher.update.outer_middleware(UserContext(ctx))
    dispatcher.update.outer_middleware(ReachableAgain(ctx))
    MemberLocaleMiddleware(i18n).setup(dispatcher)
    for observer in (dispatcher.message, dispatcher.edited_message, dispatcher.callback_query):
        observer.middleware(ReplyOnErrors())
    dispatcher.include_routers(*feature_routers())
    return dispatcher
