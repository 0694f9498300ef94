"""Unit of work: one session, its repositories, and an explicit commit.

Leaving the `async with` block without `commit()` rolls back, so a service
that raises halfway leaves nothing behind.
"""
from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.engine import READONLY, SQLITE_BUSY_TIMEOUT_MS, scrub
from storage.repositories.actions import ActionRepository
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.audiences import AudienceRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.broadcasts import BroadcastRepository
from storage.repositories.campaigns import CampaignRepository
from storage.repositories.claims import ClaimRepository
from storage.repositories.grants import GrantRepository
from storage.repositories.history import HistoryRepository
from storage.repositories.ledger import LedgerRepository
from storage.repositories.lots import LotRepository
from storage.repositories.members import MemberRepository
from storage.repositories.moments import BudgetRepository, DrawRepository, RecoveryRepository, SurpriseRepository
from storage.repositories.operations import OperationsRepository
from storage.repositories.orders import OrderRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.photos import PhotoRepository
from storage.repositories.privacy import PrivacyRepository
from storage.repositories.programs import ProgramRepository
from storage.repositories.referrals import ReferralRepository
from storage.repositories.reports import ReportRepository
from storage.repositories.rewards import RewardRepository
from storage.repositories.settings import SettingsRepository
from storage.repositories.staff import StaffRepository
from storage.repositories.stamps import StampRepository
from storage.repositories.surveys import SurveyRepository
from storage.repositories.tier_events import TierEventRepository
from storage.repositories.tokens import TokenRepository
from storage.repositories.vouchers import VoucherRepository

log = logging.getLogger(__name__)


class UnitOfWork:
    session: AsyncSession
    members: MemberRepository
    ledger: LedgerRepository
    staff: StaffRepository
    settings: SettingsRepository
    outbox: OutboxRepository
    tokens: TokenRepository
    audit: AuditRepository
    rewards: RewardRepository
    vouchers: VoucherRepository
    lots: LotRepository
    tier_events: TierEventRepository
    campaigns: CampaignRepository
    history: HistoryRepository
    privacy: PrivacyRepository
    broadcasts: BroadcastRepository
    audiences: AudienceRepository
    referrals: ReferralRepository
    surveys: SurveyRepository
    reports: ReportRepository
    api_keys: ApiKeyRepository
    orders: OrderRepository
    claims: ClaimRepository
    operations: OperationsRepository
    stamps: StampRepository
    actions: ActionRepository
    grants: GrantRepository
    budgets: BudgetRepository
    recovery: RecoveryRepository
    surprises: SurpriseRepository
    draws: DrawRepository
    photos: PhotoRepository
    programs: ProgramRepository

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        readonly: bool = False,
        writers: WriterQueue | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.readonly = readonly
        self._writers = writers
        self._queued = False

    async def __aenter__(self) -> UnitOfWork:
        if self._writers is not None and not self.readonly:
            self._queued = await self._writers.enter()
        self.session = session = self._sessionmaker()
        if self.readonly:
            await session.connection(execution_options={READONLY: True})
        self.members = MemberRepository(session)
        self.ledger = LedgerRepository(session)
        self.staff = StaffRepository(session)
        self.settings = SettingsRepository(session)
        self.outbox = OutboxRepository(session)
        self.tokens = TokenRepository(session)
        self.audit = AuditRepository(session)
        self.rewards = RewardRepository(session)
        self.vouchers = VoucherRepository(session)
        self.lots = LotRepository(session)
        self.tier_events = TierEventRepository(session)
        self.campaigns = CampaignRepository(session)
        self.history = HistoryRepository(session)
        self.privacy = PrivacyRepository(session)
        self.broadcasts = BroadcastRepository(session)
        self.audiences = AudienceRepository(session)
        self.referrals = ReferralRepository(session)
        self.surveys = SurveyRepository(session)
        self.reports = ReportRepository(session)
        self.api_keys = ApiKeyRepository(session)
        self.orders = OrderRepository(session)
        self.claims = ClaimRepository(session)
        self.operations = OperationsRepository(session)
        self.stamps = StampRepository(session)
        self.actions = ActionRepository(session)
        self.grants = GrantRepository(session)
        self.budgets = BudgetRepository(session)
        self.recovery = RecoveryRepository(session)
        self.surprises = SurpriseRepository(session)
        self.draws = DrawRepository(session)
        self.photos = PhotoRepository(session)
        self.programs = ProgramRepository(session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() detaches the loaded objects first and then rolls back whatever
        # was not committed; rollback() alone would expire the objects a
        # service returns to its caller.
        try:
            await self.session.close()
        finally:
            if self._queued and self._writers is not None:
                self._queued = False
                self._writers.leave()

    async def commit(self) -> None:
        if self.readonly:
            raise RuntimeError("commit() in a read-only unit of work")
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class WriterQueue:
    """SQLite has one writer at a time; this makes the writers of one process
    queue for it in order, on the event loop, instead of in SQLite's busy
    handler.

    Without it, sixteen `/award`s at once all run `BEGIN IMMEDIATE`; the
    losers sleep in SQLite's busy handler (1, 2, 5 … 100 ms naps, retried,
    in no order), so the unlucky one waits seconds while the lock sits idle
    between naps. Queued here, each writer starts the moment the previous
    one commits, first come first served. Other processes (a `wafa run-job`
    beside the bot) still meet at SQLite's busy timeout.

    A task already holding the queue passes through (a nested unit of work
    behaves as it did without the queue), and a wait longer than the busy
    timeout goes ahead unqueued, so the queue can delay a writer but never
    deadlock one.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    async def enter(self) -> bool:
        """Wait for the turn; True when this unit of work holds the queue (and must leave it)."""
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            return False
        try:
            await asyncio.wait_for(self._lock.acquire(), self.timeout)
        except TimeoutError:
            log.warning("a database writer waited %.0f s for its turn; going ahead unqueued", self.timeout)
            return False
        self._holder = task
        return True

    def leave(self) -> None:
        self._holder = None
        self._lock.release()


class Database:
    """The engine and the unit-of-work factory every caller shares."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        sqlite = engine.dialect.name == "sqlite"
        self.writers = WriterQueue(SQLITE_BUSY_TIMEOUT_MS / 1000) if sqlite else None

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        """A unit of work; `readonly=True` for pure reads (no write lock on SQLite)."""
        return UnitOfWork(self.sessionmaker, readonly=readonly, writers=self.writers)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def scrub(self) -> None:
        """After an erasure: the database file keeps none of the erased bytes (SQLite)."""
        await scrub(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()
