from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.delivery import DeliveryStatus
from storage.models import (
    ActionClaim,
    ActionToken,
    AuditEntry,
    FormerMember,
    LedgerEntry,
    OutboxMessage,
    StampEntry,
    Survey,
)
from storage.sql import affected

# Payload fields of messages *about* a member that carry their words or names.
PERSONAL_FIELDS = frozenset({"name", "member_name", "friend", "comment", "first_name", "last_name", "username", "phone"})
ERASED = "the member erased their data"
# Tables whose unique keys may carry the member's chat id, and that key column.
_KEYED: list[tuple[Any, str]] = [
    (LedgerEntry, "idempotency_key"), (Survey, "key"), (OutboxMessage, "key"), (ActionClaim, "key"),
    (StampEntry, "idempotency_key"),
]


def scrub(value: Any, personal: tuple[str, ...]) -> Any:
    """`value` (a JSON payload or audit details) without the personal fields and
    without any string that contains one of `personal` (names, phone, comments)."""
    if isinstance(value, dict):
        return {
            key: (None if key in PERSONAL_FIELDS else scrub(item, personal)) for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item, personal) for item in value]
    if isinstance(value, str) and any(p and p in value for p in personal):
        return None
    return value


class PrivacyRepository:
    """Queries behind /mydata and /forget that read across features."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ledger_of(self, member_id: int) -> list[LedgerEntry]:
        stmt = select(LedgerEntry).where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.id)
        return list(await self.session.scalars(stmt))

    async def messages_to(self, member_id: int) -> list[OutboxMessage]:
        stmt = select(OutboxMessage).where(OutboxMessage.member_id == member_id).order_by(OutboxMessage.id)
        return list(await self.session.scalars(stmt))

    async def cancel_pending_messages(self, member_id: int, *, now: datetime) -> int:
        """Messages not sent yet to a member who asked to be forgotten are dropped."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.member_id == member_id, OutboxMessage.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.CANCELLED, last_error=ERASED)
            .execution_options(synchronize_session=False)
        )
        return affected(result)

    async def erase_messages(self, member_id: int, telegram_id: int | None, personal: tuple[str, ...]) -> None:
        """Every outbox row to the member (by member or chat id) or about them
        (`subject_id`): the queued ones are cancelled; payloads keep nothing that
        names them, and rows to them forget the chat id."""
        to_member = [OutboxMessage.member_id == member_id]
        if telegram_id is not None:
            to_member.append(OutboxMessage.chat_id == telegram_id)
        await self.session.execute(
            update(OutboxMessage)
            .where(or_(*to_member, OutboxMessage.subject_id == member_id), OutboxMessage.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.CANCELLED, last_error=ERASED)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(OutboxMessage)
            .where(or_(*to_member))
            .values(payload={}, chat_id=0)
            .execution_options(synchronize_session=False)
        )
        about = await self.session.scalars(select(OutboxMessage).where(OutboxMessage.subject_id == member_id))
        for message in about:
            message.payload = scrub(message.payload, personal)

    async def erase_audit(self, member_id: int, telegram_id: int | None, personal: tuple[str, ...]) -> None:
        """Audit rows about the member keep who did what and the numbers, not
        free text or personal values; the member as actor becomes 0."""
        rows = await self.session.scalars(select(AuditEntry).where(AuditEntry.member_id == member_id))
        for entry in rows:
            entry.details = {
                key: value for key, value in scrub(entry.details, personal).items()
                if not isinstance(value, str) or key in ("key", "amount")
            }
        if telegram_id is not None:
            await self.session.execute(
                update(AuditEntry).where(AuditEntry.actor_id == telegram_id).values(actor_id=0)
                .execution_options(synchronize_session=False)
            )

    async def erase_ledger_notes(self, member_id: int) -> None:
        """A cashier's note may name the member; amounts and points stay (the totals are audited)."""
        await self.session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.member_id == member_id, LedgerEntry.note.is_not(None))
            .values(note=None)
            .execution_options(synchronize_session=False)
        )

    async def rewrite_keys(self, member_id: int, telegram_id: int) -> None:
        """Idempotency keys of the member's own typed commands hold their chat id
        (`feedback:<chat>:<message>`): it becomes `f<member id>`, unique as before."""
        pattern = re.compile(rf"(?<=:){telegram_id}(?=:|$)")
        anonymous = f"f{member_id}"
        for model, column in _KEYED:
            rows = await self.session.scalars(
                select(model).where(model.member_id == member_id, getattr(model, column).contains(str(telegram_id)))
            )
            for row in rows:
                setattr(row, column, pattern.sub(anonymous, getattr(row, column)))
        await self.session.flush()

    async def drop_tokens(self, telegram_id: int) -> None:
        await self.session.execute(delete(ActionToken).where(ActionToken.telegram_id == telegram_id))

    # -- former members (SPEC §7: a rejoin earns no bonus twice) ------------------------------
    async def former(self, key_hash: str) -> FormerMember | None:
        return await self.session.get(FormerMember, key_hash, populate_existing=True)

    async def formers(self, key_hashes: list[str]) -> dict[str, FormerMember]:
        if not key_hashes:
            return {}
        rows = await self.session.scalars(select(FormerMember).where(FormerMember.key_hash.in_(key_hashes)))
        return {row.key_hash: row for row in rows}

    async def remember_former(
        self, key_hash: str, *, signup_bonus: bool, referred: bool, birthday_bonus_at: datetime | None, now: datetime
    ) -> None:
        """Record (or merge into) the former member: what any of their memberships earned."""
        known = await self.former(key_hash)
        if known is None:
            self.session.add(FormerMember(
                key_hash=key_hash, signup_bonus=signup_bonus, referred=referred,
                birthday_bonus_at=birthday_bonus_at, forgotten_at=now,
            ))
            await self.session.flush()
            return
        known.signup_bonus = known.signup_bonus or signup_bonus
        known.referred = known.referred or referred
        if birthday_bonus_at is not None and (known.birthday_bonus_at is None or birthday_bonus_at > known.birthday_bonus_at):
            known.birthday_bonus_at = birthday_bonus_at
        known.forgotten_at = now

    async def last_credit_at(self, member_id: int, kind: str) -> datetime | None:
        return await self.session.scalar(
            select(func.max(LedgerEntry.created_at)).where(LedgerEntry.member_id == member_id, LedgerEntry.kind == kind)
        )
