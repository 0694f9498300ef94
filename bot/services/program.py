"""The program in the database (issue 12): seeded once from the file, edited with /setup.

Versions are append-only rows (`uow.programs`); the newest is in force. Each
update checks `max(version)` in the unit of work it opens anyway
(`refresh`), so a change saved on one replica is in force on every replica
from their next update on.
"""
from __future__ import annotations

import logging
from typing import Any

from bot.domain.program import Program
from bot.domain.setup import ProgramChanged, SetupAnswers, apply_setup, program_document, program_from_document
from bot.services.ports import Context, UnitOfWork

log = logging.getLogger(__name__)


def _use(ctx: Any, program: Program, version: int) -> None:
    ctx.program = program
    ctx.program_version = version


async def refresh(ctx: Any, uow: UnitOfWork) -> None:
    """Reload the program when another process saved a newer version (one primary-key read)."""
    version = await uow.programs.latest_version()
    if version and version != getattr(ctx, "program_version", 0):
        row = await uow.programs.latest()
        if row is not None:
            _use(ctx, program_from_document(row.document), row.version)


async def prepare(ctx: Any) -> None:
    """At start: the saved program, else the file's (or the default) seeded as version 1.

    While the program was never edited in chat, a changed program file is
    saved as a new version (the file still rules); after the first /setup the
    database rules and the file is ignored (logged)."""
    now = ctx.now()
    async with ctx.uow() as uow:
        latest = await uow.programs.latest()
        document = program_document(ctx.program)
        if latest is None or (latest.source == "file" and latest.document != document):
            version = (latest.version if latest else 0) + 1
            try:
                await uow.programs.add(version=version, document=document, source="file", actor_id=None, now=now)
                uow.audit.record(actor_id=0, action="program_seeded", now=now, version=version)
                await uow.commit()
                _use(ctx, ctx.program, version)
                return
            except Exception as exc:  # another replica seeded at the same moment: use theirs
                if type(exc).__name__ != "IntegrityError":
                    raise
                await uow.rollback()
                latest = await uow.programs.latest()
        if latest is not None:
            if latest.document != document and latest.source == "chat":
                log.info("the program was edited in chat (version %s); the program file is not used", latest.version)
            _use(ctx, program_from_document(latest.document), latest.version)


async def needs_setup(ctx: Context) -> bool:
    """A fresh install: no program saved from chat and no members yet."""
    async with ctx.uow(readonly=True) as uow:
        if await uow.programs.has_chat_edits():
            return False
        return not await uow.members.count()


async def save_setup(ctx: Any, *, actor_id: int, answers: SetupAnswers, based_on: int) -> tuple[Program, int, dict[str, Any]]:
    """Save the answers as the next version, audited; refused (ProgramChanged) when another
    version was saved since this /setup started (`based_on`)."""
    now = ctx.now()
    async with ctx.uow() as uow:
        await refresh(ctx, uow)
        current_version = await uow.programs.latest_version()
        if current_version != based_on:
            raise ProgramChanged()
        program, changes = apply_setup(ctx.program, answers)
        version = current_version + 1
        try:
            await uow.programs.add(version=version, document=program_document(program), source="chat",
                                   actor_id=actor_id, now=now)
        except Exception as exc:
            if type(exc).__name__ == "IntegrityError":  # another owner saved the same version
                raise ProgramChanged() from None
            raise
        uow.audit.record(actor_id=actor_id, action="program", now=now, version=version, changes=changes)
        await uow.commit()
    _use(ctx, program, version)
    if "reward" in changes:
        from bot.services.rewards import seed_rewards

        await seed_rewards(ctx)
    return program, version, changes
