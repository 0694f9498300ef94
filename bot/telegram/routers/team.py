"""/staff [add|remove <user id>]: the owner manages who may use the counter commands (SPEC §4)."""
from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import DomainError
from bot.services import team
from bot.telegram.commands import ChatMenu, menu_for, publish_chat_menu
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsOwner
from bot.telegram.notices import Outgoing, notice
from bot.telegram.render import Fmt, esc, isolate


def person_label(telegram_id: int, member: Any | None, fmt: Fmt) -> str:
    """"Cyrus @cyrus_cash (600)", or just the id for someone who never joined as a customer."""
    number = isolate(fmt.digits_of(str(telegram_id)))
    if member is None:
        return _("user {id}").format(id=number)
    parts = [esc(" ".join(p for p in (member.first_name, member.last_name) if p)) or _("(no name)")]
    if member.username:
        parts.append(isolate(f"@{esc(member.username)}"))
    return " ".join(parts) + f" ({number})"


def staff_commands(fmt: Fmt) -> str:
    return fmt.join(f"/{c.name}" for c in menu_for("staff") if c.audience == "staff")


def usage() -> str:
    return esc(
        _("Usage:\n/staff — list the staff\n/staff add <user id> — let someone use the counter commands\n"
          "/staff remove <user id> — take that away\nThe user id is the number Telegram shows for the person; "
          "for someone who joined as a customer, their member code or @username works too.")
    )


async def staff(message: Message, command: CommandObject, ctx: Any, fmt: Fmt, bot: Bot, i18n: I18n) -> None:
    assert message.from_user is not None
    words = (command.args or "").split()
    if not words:
        await message.answer(await list_text(ctx, fmt))
        return
    action = words[0].lower()
    if action not in ("add", "remove") or len(words) != 2:
        await message.answer(usage())
        return
    if action == "add":
        change = await team.add_staff(ctx, actor_id=message.from_user.id, who=words[1])
        who = person_label(change.telegram_id, change.member, fmt)
        if not change.changed:
            await message.answer(_("{person} is already staff.").format(person=who))
            return
        language = change.member.language if change.member is not None else None
        await publish_chat_menu(bot, i18n, ChatMenu(change.telegram_id, "staff", language))
        await message.answer(
            _("✅ {person} is staff now and can use {commands}.").format(person=who, commands=staff_commands(fmt))
        )
        return
    change = await team.remove_staff(ctx, actor_id=message.from_user.id, who=words[1])
    who = person_label(change.telegram_id, change.member, fmt)
    if not change.changed:
        await message.answer(_("{person} is not staff.").format(person=who))
        return
    language = change.member.language if change.member is not None else None
    await publish_chat_menu(bot, i18n, ChatMenu(change.telegram_id, "customer", language))
    await message.answer(_("✅ {person} is no longer staff.").format(person=who))


async def list_text(ctx: Any, fmt: Fmt) -> str:
    entries = await team.list_staff(ctx)
    if not entries:
        lines = [esc(_("No staff yet. Add a cashier with /staff add <user id>."))]
    else:
        lines = [ngettext("👥 <b>Staff</b> ({count} person):", "👥 <b>Staff</b> ({count} people):", len(entries)).format(
            count=fmt.num(len(entries))
        )]
        for entry in entries:
            lines.append(
                "• " + _("{person}, added on {date}").format(
                    person=person_label(entry.telegram_id, entry.member, fmt), date=fmt.date(entry.added_at)
                )
            )
    owners = fmt.join(isolate(fmt.digits_of(str(owner))) for owner in sorted(ctx.owners))
    lines += ["", _("Owners (ADMIN_IDS): {ids}").format(ids=owners or "—")]
    return "\n".join(lines)


@describes("invalid_user_id")
def _invalid_user_id(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is not a Telegram user id. Send the number, e.g. /staff add 123456789.").format(
        text=echo(error.details.get("text", ""))
    )


@describes("never_opened_bot")
def _never_opened(error: DomainError, fmt: Fmt) -> str:
    return _(
        "User {id} has never opened this bot, so I cannot message them. Ask them to send /start to the bot, "
        "then add them again. Nothing was changed."
    ).format(id=fmt.code(str(error.details["telegram_id"])))


@describes("staff_is_owner")
def _staff_is_owner(error: DomainError, fmt: Fmt) -> str:
    return _("That person is an owner (ADMIN_IDS) and can already do everything.")


@notice("staff_added")
def _staff_added(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing(
        _("👋 You were added to the staff of {merchant}. Your commands: {commands}. Send /help for details.").format(
            merchant=fmt.name(ctx.program.name), commands=staff_commands(fmt)
        )
    )


def create_router() -> Router:
    router = Router(name="team")
    router.message.filter(IsOwner)
    router.message.register(staff, Command("staff"))
    return router
