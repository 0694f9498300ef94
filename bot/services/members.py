"""Joining, finding and updating members."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain import errors
from bot.domain.ledger import Kind
from bot.domain.members import member_token_counts, new_member_code, parse_member_ref, phone_suffix
from bot.services.ledger import credit
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import former_membership
from bot.services.referrals import ReferralNote, attribute

_CODE_ATTEMPTS = 10


@dataclass(frozen=True)
class TelegramProfile:
    """The parts of a Telegram user Wafa keeps, converted at the edge."""

    telegram_id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    language: str


@dataclass(frozen=True)
class Enrolment:
    member: Any
    created: bool
    bonus: int
    referral: ReferralNote | None = None


async def enrol(ctx: Context, profile: TelegramProfile, *, referral_code: str | None = None) -> Enrolment:
    """Make the user a member in one step; a second call returns the same member.

    Safe under concurrency: the unique Telegram id decides which of two
    simultaneous /start messages creates the member, the other one reads it.
    `referral_code` (from `/start ref-<code>`) attributes a new member to the
    referrer; an existing member is never re-attributed.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        existing = await uow.members.by_telegram_id(profile.telegram_id)
        if existing is not None:
            _refresh_names(existing, profile)
            note = await attribute(ctx, uow, existing, referral_code, created=False, now=now)
            await uow.commit()
            return Enrolment(existing, created=False, bonus=0, referral=note)
        member = None
        for _ in range(_CODE_ATTEMPTS):
            member = await uow.members.create(
                telegram_id=profile.telegram_id,
                code=new_member_code(),
                first_name=_clip(profile.first_name, 128),
                last_name=_clip(profile.last_name, 128),
                username=profile.username.lower() if profile.username else None,
                language=profile.language,
                joined_at=now,
            )
            if member is not None:
                break
            raced = await uow.members.by_telegram_id(profile.telegram_id)
            if raced is not None:
                return Enrolment(raced, created=False, bonus=0)
        if member is None:  # pragma: no cover - 29**6 codes; ten collisions in a row means a bug
            raise RuntimeError("could not allocate a unique member code")
        # Rejoining after /forget (SPEC §7): a new member with no referrer, and no
        # signup bonus if the erased membership had one.
        former = await former_membership(ctx, uow, profile.telegram_id)
        if former is not None:
            referral_code = None
        bonus = 0 if former is not None and former.signup_bonus else ctx.program.bonuses.signup
        if bonus:
            await credit(ctx, uow, member, bonus, Kind.SIGNUP, key=f"signup:{member.id}", now=now)
        note = await attribute(ctx, uow, member, referral_code, created=True, now=now)
        await uow.members.refresh(member)
        await uow.commit()
        return Enrolment(member, created=True, bonus=bonus, referral=note)


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if text else None


def _refresh_names(member: Any, profile: TelegramProfile) -> None:
    # Names and usernames change on Telegram; staff search by the current ones.
    member.first_name = _clip(profile.first_name, 128)
    member.last_name = _clip(profile.last_name, 128)
    member.username = profile.username.lower() if profile.username else None


async def find_member(uow: UnitOfWork, text: str) -> Any:
    """The member a cashier means by `text` (code, Telegram id, @username, phone).

    Raises MemberNotFound, AmbiguousMember (two members share a phone ending
    or username), or MemberForgotten (erased at their request).
    """
    ref = parse_member_ref(text)
    if ref is None:
        raise errors.MemberNotFound(query=text)
    candidates: list[Any] = []
    if ref.kind == "code":
        found = await uow.members.by_code(ref.value)
        candidates = [found] if found else []
    elif ref.kind == "username":
        candidates = await uow.members.by_username(ref.value)
    elif ref.kind == "telegram_id":
        found = await uow.members.by_telegram_id(int(ref.value))
        candidates = [found] if found else await uow.members.by_phone_suffix(phone_suffix(ref.value))
    else:
        candidates = await uow.members.by_phone_suffix(phone_suffix(ref.value))
    if not candidates:
        raise errors.MemberNotFound(query=text)
    if len(candidates) > 1:
        raise errors.AmbiguousMember(query=text)
    member = candidates[0]
    if member.forgotten_at is not None:
        raise errors.MemberForgotten(query=text)
    return member


async def split_member(ctx: Context, text: str, *, keep: int) -> tuple[str, list[str]]:
    """(`<member>` text, the other tokens) of a command's arguments; a phone
    typed in groups (`+966 50 123 4567`) is taken whole when it names a member."""
    tokens = text.split()
    counts = member_token_counts(tokens, keep=keep)
    if keep == 0 and counts and counts[0] == len(tokens):
        return " ".join(tokens), []  # nothing else expected: all of it is the phone
    if len(counts) > 1:
        async with ctx.uow(readonly=True) as uow:
            for count in counts[:-1]:
                ref = parse_member_ref(" ".join(tokens[:count]))
                if ref is not None and ref.kind == "phone" and await uow.members.by_phone_suffix(phone_suffix(ref.value)):
                    return " ".join(tokens[:count]), tokens[count:]
    return (tokens[0] if tokens else ""), tokens[1:]


def refuse_self_service(ctx: Context, member: Any, actor_id: int, action: str) -> bool:
    """Staff may not credit their own account (SPEC §4); an owner may. Returns
    whether this is an owner serving themselves (to be audited as such)."""
    if member.telegram_id is None or member.telegram_id != actor_id:
        return False
    if actor_id not in ctx.owners:
        raise errors.SelfService(action=action)
    return True


async def set_language(ctx: Context, telegram_id: int, language: str) -> bool:
    """Store the member's language; False when the user is not a member."""
    async with ctx.uow() as uow:
        member = await uow.members.by_telegram_id(telegram_id)
        if member is None:
            return False
        member.language = language
        await uow.commit()
        return True


async def set_marketing_consent(ctx: Context, telegram_id: int, opt_in: bool) -> Any | None:
    async with ctx.uow() as uow:
        member = await uow.members.by_telegram_id(telegram_id)
        if member is None:
            return None
        if member.marketing_opt_in != opt_in:
            member.marketing_opt_in = opt_in
            member.consent_at = ctx.now()
            await uow.commit()
        return member
