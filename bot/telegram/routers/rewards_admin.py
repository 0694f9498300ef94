"""/rewards_admin: the owner adds, edits, pauses and resumes rewards in conversation (SPEC §4).

    /rewards_admin ─▶ catalog ─➕─▶ name en → ar → fa ─▶ description en → ar → fa ─▶ cost ─▶ kind ─▶ [value]
                        │         ─▶ stock ─▶ per-member limit ─▶ tier ─▶ voucher validity ─▶ availability
                        │         ─▶ preview ──✅ Save (one-time token: a double tap saves one reward)
                        └─ reward ─▶ card ──✏️ field ─▶ [language] ─▶ new value ─▶ card
                                          ├─ 🖼 add / change photo ─▶ a photo ─▶ card (🗑 removes it)
                                          └─ ⏸ pause / ▶️ resume

Optional steps have a button (Skip, Unlimited, No limit, No end date);
✖ Cancel or /cancel leaves at any step. Every typed value is checked by
`bot.domain.rewards`; a wrong one is answered and asked again. Buttons
carry the step they belong to, so a button from an earlier step is stale.
"""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import DomainError, StaleAction
from bot.domain.program import LANGS
from bot.domain.rewards import DESCRIPTION_LIMIT, NAME_LIMIT, parse_field, parse_value
from bot.services import rewards
from bot.telegram.edits import replace_message
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsOwner
from bot.telegram.render import Fmt, esc, isolate
from bot.telegram.reward_text import days, kind_label, language_label, last_day, reward_name, tier_name, what_it_is

LISTED = 60
DEFAULT_VALID_DAYS = 30
ADD_STEPS = (
    "name.en", "name.ar", "name.fa",
    "description.en", "description.ar", "description.fa",
    "cost", "kind", "value", "stock", "limit", "min_tier", "valid_days", "available_days",
)
CHOICE_STEPS = {"kind", "min_tier", "preview"}


class RewardAdmin(StatesGroup):
    typing = State()  # a typed value for data["step"]
    choosing = State()  # a button for data["step"]
    photo = State()  # a picture for reward data["rid"]


class Admin(CallbackData, prefix="ra"):
    act: str  # list add open edit lang pause resume skip kind tier save cancel photo nophoto
    rid: int = 0
    arg: str = ""


def _button(text: str, act: str, rid: int = 0, arg: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=Admin(act=act, rid=rid, arg=arg).pack())


def _cancel_row() -> list[InlineKeyboardButton]:
    return [_button(_("✖ Cancel"), "cancel")]


# -- views ---------------------------------------------------------------------------------------


def catalog_view(ctx: Any, items: list[Any], fmt: Fmt) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("🛠 <b>Rewards catalog</b>: tap a reward to edit or pause it, or add a new one."), ""]
    rows: list[list[InlineKeyboardButton]] = []
    for reward in items[:LISTED]:
        state = _("active") if reward.active else _("⏸ paused")
        stock = _("{count} left").format(count=fmt.num(reward.stock)) if reward.stock is not None else _("unlimited")
        lines.append(
            f"• <b>{reward_name(reward.name, fmt)}</b> — {fmt.points(reward.cost)} · {state} · {stock}"
        )
        rows.append([_button(("✏️ " if reward.active else "⏸ ") + _clip(reward_name(reward.name, fmt)), "open", reward.id)])
    if not items:
        lines.append(_("The catalog is empty."))
    rows.append([_button(_("➕ Add a reward"), "add")])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(ctx: Any, fmt: Fmt, reward: Any, availability: str) -> str:
    lines = []
    for lang in LANGS:
        if reward.name.get(lang):
            lines.append(_("Name ({language}): {text}").format(
                language=language_label(lang), text=isolate(f"<b>{esc(reward.name[lang])}</b>")))
    for lang in LANGS:
        if (reward.description or {}).get(lang):
            lines.append(_("Description ({language}): {text}").format(
                language=language_label(lang), text=isolate(esc(reward.description[lang]))))
    lines += [
        _("Cost: {points}").format(points=fmt.points(reward.cost)),
        _("Kind: {kind}").format(kind=what_it_is(reward, ctx, fmt)),
        _("Stock: {stock}").format(stock=fmt.num(reward.stock) if reward.stock is not None else _("unlimited")),
        _("Per member: {limit}").format(
            limit=fmt.num(reward.per_member_limit) if reward.per_member_limit is not None else _("no limit")),
        _("Who can redeem: {who}").format(who=who_label(ctx, reward.min_tier, fmt)),
        _("A voucher is valid for {days}.").format(days=days(fmt, reward.valid_days)),
        availability,
    ]
    return "\n".join(lines)


def who_label(ctx: Any, min_tier: int, fmt: Fmt) -> str:
    return _("everyone") if min_tier == 0 else _("{tier} and above").format(tier=tier_name(ctx, min_tier, fmt))


def availability_text(reward: Any, ctx: Any, fmt: Fmt) -> str:
    now = ctx.now()
    if reward.starts_at is not None and reward.starts_at > now:
        return _("In the catalog from {date}.").format(date=fmt.date(reward.starts_at))
    if reward.ends_at is not None:
        if reward.ends_at <= now:
            return _("Its time in the catalog ended on {date}.").format(date=last_day(fmt, reward.ends_at))
        return _("In the catalog until {date}.").format(date=last_day(fmt, reward.ends_at))
    return _("In the catalog with no end date.")


def card_view(ctx: Any, reward: Any, fmt: Fmt) -> tuple[str, InlineKeyboardMarkup]:
    head = _("🟢 Active: members see it in /rewards.") if reward.active else _("⏸ Paused: members do not see it.")
    if reward.photo:
        head += "\n" + _("🖼 It has a photo: members see it with the reward in /rewards.")
    text = f"{head}\n\n{summary(ctx, fmt, reward, availability_text(reward, ctx, fmt))}"
    rid = reward.id
    rows = [
        [_button(_("✏️ Name"), "edit", rid, "name"), _button(_("✏️ Description"), "edit", rid, "description")],
        [_button(_("✏️ Cost"), "edit", rid, "cost"), _button(_("✏️ Kind"), "edit", rid, "kind")],
    ]
    if ctx.program.kind_value(reward.kind) not in (None, "none"):
        rows.append([_button(_("✏️ Value"), "edit", rid, "value")])
    rows += [
        [_button(_("✏️ Stock"), "edit", rid, "stock"), _button(_("✏️ Per-member limit"), "edit", rid, "limit")],
        [_button(_("✏️ Who can redeem"), "edit", rid, "min_tier"), _button(_("✏️ Validity"), "edit", rid, "valid_days")],
        [_button(_("✏️ Availability"), "edit", rid, "available_days")],
        photo_row(reward),
        [_button(_("⏸ Pause") if reward.active else _("▶️ Resume"), "pause" if reward.active else "resume", rid)],
        [_button(_("↩️ All rewards"), "list")],
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def photo_row(reward: Any) -> list[InlineKeyboardButton]:
    if not reward.photo:
        return [_button(_("🖼 Add a photo"), "photo", reward.id)]
    return [_button(_("🖼 Change the photo"), "photo", reward.id), _button(_("🗑 Remove the photo"), "nophoto", reward.id)]


def draft_view(ctx: Any, draft: dict[str, Any], fmt: Fmt) -> str:
    shown = SimpleNamespace(
        name=draft.get("name") or {},
        description=draft.get("description") or {},
        cost=int(draft["cost"]),
        kind=draft["kind"],
        value=draft.get("value"),
        stock=draft.get("stock"),
        per_member_limit=draft.get("limit"),
        min_tier=int(draft.get("min_tier") or 0),
        valid_days=int(draft.get("valid_days") or DEFAULT_VALID_DAYS),
    )
    window = draft.get("available_days")
    availability = (
        _("In the catalog for {days} from now.").format(days=days(fmt, int(window))) if window
        else _("In the catalog with no end date.")
    )
    if shown.value is not None:
        shown.value = Decimal(str(shown.value))
    return _("👀 <b>Check the new reward</b>") + "\n\n" + summary(ctx, fmt, shown, availability)


# -- prompts ---------------------------------------------------------------------------------------


def prompt(ctx: Any, fmt: Fmt, step: str, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """The question for `step` and its buttons (skip-like choices, kinds, tiers, cancel)."""
    field, _sep, lang = step.partition(".")
    adding = data.get("mode") == "add"
    rows: list[list[InlineKeyboardButton]] = []
    if field == "name":
        text = _("What is the reward called in {language}? Up to {limit} characters.").format(
            language=language_label(lang), limit=fmt.num(NAME_LIMIT))
        if adding:
            text += "\n" + _("Tap Skip if you do not serve customers in this language.")
            rows.append([_button(_("Skip"), "skip", arg=step)])
        elif (data.get("current") or {}).get(lang):
            rows.append([_button(_("Remove this language"), "skip", arg=step)])
    elif field == "description":
        text = _("A short description in {language}, up to {limit} characters.").format(
            language=language_label(lang), limit=fmt.num(DESCRIPTION_LIMIT))
        rows.append([_button(_("Skip") if adding else _("Remove this language"), "skip", arg=step)])
    elif field == "cost":
        text = _("How many points does it cost? Send a whole number, e.g. 150.")
    elif field == "kind":
        text = _("What kind of reward is it?")
        kinds = list(ctx.program.kinds)
        for i in range(0, len(kinds), 2):
            rows.append([_button(kind_label(k, ctx, fmt), "kind", arg=k) for k in kinds[i:i + 2]])
    elif field == "value":
        if ctx.program.kind_value(data.get("kind") or "") == "percent":
            text = _("How many percent off? Send a number from 1 to 100.")
        else:
            text = _("How much off, in {currency}? Send an amount, e.g. 20.").format(
                currency=fmt.currency(ctx.program.currency))
    elif field == "stock":
        text = _("How many can be handed out in total? Send a number, or tap Unlimited.")
        rows.append([_button(_("Unlimited"), "skip", arg=step)])
    elif field == "limit":
        text = _("How many times may one member redeem it? Send a number, or tap No limit.")
        rows.append([_button(_("No limit"), "skip", arg=step)])
    elif field == "min_tier":
        text = _("Who can redeem it?")
        rows += [[_button(who_label(ctx, i, fmt), "tier", arg=str(i))] for i in range(len(ctx.program.tiers))]
    elif field == "valid_days":
        text = _("For how many days is a voucher valid once redeemed? Send a number of days, e.g. 30.")
        if adding:
            rows.append([_button(_("Keep 30 days"), "skip", arg=step)])
    else:  # available_days
        text = _("For how many days should it stay in the catalog? Send a number of days, or tap No end date.")
        rows.append([_button(_("No end date"), "skip", arg=step)])
    rows.append(_cancel_row())
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def ask(target: Message, state: FSMContext, ctx: Any, fmt: Fmt, step: str, **updates: Any) -> None:
    await state.update_data(step=step, **updates)
    await state.set_state(RewardAdmin.choosing if step in CHOICE_STEPS else RewardAdmin.typing)
    text, keyboard = prompt(ctx, fmt, step, await state.get_data())
    await target.answer(text, reply_markup=keyboard)


def skippable(step: str, adding: bool) -> bool:
    """Steps with a Skip-like button: optional texts, Unlimited, No limit, No end date."""
    field = step.partition(".")[0]
    if field in ("name", "description", "stock", "limit", "available_days"):
        return True
    return adding and field == "valid_days"


def next_step(step: str, draft: dict[str, Any], ctx: Any) -> str | None:
    index = ADD_STEPS.index(step) + 1
    while index < len(ADD_STEPS):
        candidate = ADD_STEPS[index]
        if candidate == "value" and ctx.program.kind_value(draft.get("kind") or "") in (None, "none"):
            index += 1
            continue
        return candidate
    return None


# -- entry points ------------------------------------------------------------------------------


async def open_catalog(message: Message, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    await state.clear()
    text, keyboard = catalog_view(ctx, await rewards.all_rewards(ctx), fmt)
    await message.answer(text, reply_markup=keyboard)


async def cancel_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled. Nothing was saved."))


async def on_button(query: CallbackQuery, callback_data: Admin, state: FSMContext, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    act, rid, arg = callback_data.act, callback_data.rid, callback_data.arg
    if not isinstance(query.message, Message):
        raise StaleAction()  # a menu too old for Telegram to show
    target = query.message
    if act == "list":
        await state.clear()
        text, keyboard = catalog_view(ctx, await rewards.all_rewards(ctx), fmt)
        await query.answer()
        await replace_message(query, bot, text, keyboard)
    elif act == "open":
        await state.clear()
        text, keyboard = card_view(ctx, await rewards.get_reward(ctx, rid), fmt)
        await query.answer()
        await replace_message(query, bot, text, keyboard)
    elif act in ("pause", "resume"):
        reward = await rewards.set_active(ctx, query.from_user.id, rid, act == "resume")
        await query.answer(_("Paused: members no longer see it.") if act == "pause" else _("Resumed: members see it again."))
        text, keyboard = card_view(ctx, reward, fmt)
        await replace_message(query, bot, text, keyboard)
    elif act == "add":
        await state.clear()
        await state.update_data(mode="add", draft={"name": {}, "description": {}})
        await query.answer()
        await ask(target, state, ctx, fmt, ADD_STEPS[0])
    elif act == "edit":
        await start_edit(query, target, state, ctx, fmt, rid, arg)
    elif act == "lang":
        data = await state.get_data()
        if data.get("mode") != "edit" or data.get("rid") != rid or arg.split(".")[0] != data.get("field"):
            raise StaleAction()
        await query.answer()
        await ask(target, state, ctx, fmt, arg)
    elif act == "cancel":
        await state.clear()
        await query.answer()
        await replace_message(query, bot, _("Cancelled. Nothing was saved."), None)
    elif act == "save":
        await save(query, state, ctx, fmt, bot, arg)
    elif act == "photo":
        reward = await rewards.get_reward(ctx, rid)
        await state.clear()
        await state.update_data(mode="photo", rid=rid)
        await state.set_state(RewardAdmin.photo)
        await query.answer()
        await target.answer(
            _("Send the photo for {reward}: one picture, sent as a photo (not as a file).").format(
                reward=reward_name(reward.name, fmt)),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[_cancel_row()]),
        )
    elif act == "nophoto":
        reward = await rewards.set_photo(ctx, query.from_user.id, rid, None)
        await state.clear()
        await query.answer(_("The photo is removed."))
        text, keyboard = card_view(ctx, reward, fmt)
        await replace_message(query, bot, text, keyboard)
    else:  # skip, kind, tier: answers to the current step
        await answer_step(query, target, state, ctx, fmt, act, arg)


async def start_edit(
    query: CallbackQuery, target: Message, state: FSMContext, ctx: Any, fmt: Fmt, rid: int, field: str
) -> None:
    reward = await rewards.get_reward(ctx, rid)
    await state.clear()
    await state.update_data(mode="edit", rid=rid, field=field, kind=reward.kind)
    await query.answer()
    if field in ("name", "description"):
        await state.update_data(current=dict(getattr(reward, field) or {}))
        rows = [[_button(language_label(lang), "lang", rid, f"{field}.{lang}") for lang in LANGS], _cancel_row()]
        await target.answer(_("Which language?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))
        return
    if field not in ("cost", "kind", "value", "stock", "limit", "min_tier", "valid_days", "available_days"):
        raise StaleAction()
    await ask(target, state, ctx, fmt, field)


async def answer_step(
    query: CallbackQuery, target: Message, state: FSMContext, ctx: Any, fmt: Fmt, act: str, arg: str
) -> None:
    data = await state.get_data()
    step = data.get("step")
    if act == "skip" and step == arg and skippable(step, data.get("mode") == "add"):
        value: Any = DEFAULT_VALID_DAYS if step == "valid_days" else None
    elif act == "kind" and step == "kind" and ctx.program.kind_value(arg) is not None:
        value = arg
    elif act == "tier" and step == "min_tier" and arg.isdigit() and int(arg) < len(ctx.program.tiers):
        value = int(arg)
    else:
        raise StaleAction()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await take(target, state, ctx, fmt, data, step, value)


async def on_text(message: Message, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    data = await state.get_data()
    step = str(data.get("step"))
    field = step.partition(".")[0]
    text = message.text or ""
    if field == "value":
        value_type = ctx.program.kind_value(data.get("kind") or "") or "amount"
        value: Any = str(parse_value(text, value_type))
    else:
        value = parse_field(field, text)
    await take(message, state, ctx, fmt, data, step, value)


async def photo_sent(message: Message, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    """The owner's picture for the reward: its largest size's file_id is kept (Telegram stores the image)."""
    data = await state.get_data()
    assert message.photo and message.from_user is not None
    reward = await rewards.set_photo(ctx, message.from_user.id, int(data["rid"]), message.photo[-1].file_id)
    await state.clear()
    text, keyboard = card_view(ctx, reward, fmt)
    await message.answer(_("✅ Saved.") + "\n\n" + text, reply_markup=keyboard)


async def not_a_photo(message: Message) -> None:
    await message.answer(_("That is not a photo. Please send a picture as a photo, or send /cancel to stop."))


async def choose_with_buttons(message: Message) -> None:
    await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))


async def take(target: Message, state: FSMContext, ctx: Any, fmt: Fmt, data: dict[str, Any], step: str, value: Any) -> None:
    """Store one answer: in the draft (then ask the next step), or on the reward (then show it)."""
    field, _sep, lang = step.partition(".")
    actor = target.chat.id
    if data.get("mode") == "edit":
        rid = int(data["rid"])
        if field == "kind":
            if ctx.program.kind_value(value) not in (None, "none"):
                await ask(target, state, ctx, fmt, "value", kind=value, pending_kind=value)
                return
            reward = await rewards.edit_reward(ctx, actor, rid, "kind", (value, None))
        elif field == "value" and data.get("pending_kind"):
            reward = await rewards.edit_reward(ctx, actor, rid, "kind", (data["pending_kind"], Decimal(value)))
        elif field == "value":
            reward = await rewards.edit_reward(ctx, actor, rid, "value", Decimal(value))
        else:
            reward = await rewards.edit_reward(ctx, actor, rid, field, value, lang or None)
        await state.clear()
        text, keyboard = card_view(ctx, reward, fmt)
        await target.answer(_("✅ Saved.") + "\n\n" + text, reply_markup=keyboard)
        return
    draft = dict(data.get("draft") or {})
    if field in ("name", "description"):
        texts = dict(draft.get(field) or {})
        if value is None:
            texts.pop(lang, None)
        else:
            texts[lang] = value
        draft[field] = texts
    else:
        draft[field] = value
    if field == "kind":
        draft["value"] = None
    await state.update_data(draft=draft, kind=draft.get("kind"))
    if step == "name.fa" and not draft.get("name"):
        await target.answer(_("A reward needs a name in at least one language. Let us start with English again."))
        await ask(target, state, ctx, fmt, "name.en")
        return
    following = next_step(step, draft, ctx)
    if following is not None:
        await ask(target, state, ctx, fmt, following)
        return
    token = await rewards.issue_save_token(ctx, actor, draft)
    await state.update_data(step="preview")
    await state.set_state(RewardAdmin.choosing)
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[_button(_("✅ Save"), "save", arg=token), _button(_("✖ Cancel"), "cancel")]])
    await target.answer(draft_view(ctx, draft, fmt), reply_markup=keyboard)


async def save(query: CallbackQuery, state: FSMContext, ctx: Any, fmt: Fmt, bot: Bot, token: str) -> None:
    reward = await rewards.create_reward(ctx, query.from_user.id, token)
    await state.clear()
    await query.answer(_("Saved: members can redeem it now."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    text, keyboard = card_view(ctx, reward, fmt)
    await bot.send_message(query.from_user.id, _("✅ The reward is in the catalog.") + "\n\n" + text, reply_markup=keyboard)


@describes("invalid_reward_input")
def _invalid_input(error: DomainError, fmt: Fmt) -> str:
    field = error.details.get("field")
    low, high = error.details.get("low"), error.details.get("high")
    if field in ("name", "description"):
        if not error.details.get("text"):
            return _("A reward needs a name in at least one language.")
        return _("That is too long: keep it under {limit} characters. Please send it again.").format(
            limit=fmt.num(high or 0))
    if low is not None and high is not None:
        return _("{text} is not a number from {low} to {high}. Please send it again.").format(
            text=echo(error.details.get("text", "")), low=fmt.num(low), high=fmt.num(high))
    return _("That value does not fit this reward. Nothing was changed.")


def create_router() -> Router:
    router = Router(name="rewards_admin")
    router.message.filter(IsOwner)
    router.callback_query.filter(IsOwner)
    router.message.register(open_catalog, Command("rewards_admin"))
    router.message.register(cancel_command, Command("cancel"), StateFilter(RewardAdmin))
    router.message.register(on_text, RewardAdmin.typing, F.text, ~F.text.startswith("/"))
    router.message.register(choose_with_buttons, RewardAdmin.choosing, F.text, ~F.text.startswith("/"))
    router.message.register(photo_sent, RewardAdmin.photo, F.photo)
    router.message.register(not_a_photo, RewardAdmin.photo, ~F.text.startswith("/"))
    router.callback_query.register(on_button, Admin.filter())
    return router
