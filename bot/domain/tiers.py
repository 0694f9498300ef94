"""Tiers from points earned (SPEC §2 `[[tiers]]`)."""
from __future__ import annotations

from dataclasses import dataclass

from bot.domain.program import Tier


@dataclass(frozen=True)
class TierStanding:
    index: int
    tier: Tier
    earned: int
    next_tier: Tier | None
    points_to_next: int

    @property
    def progress(self) -> float:
        """0..1 share of the way from this tier's threshold to the next one."""
        if self.next_tier is None:
            return 1.0
        span = self.next_tier.threshold - self.tier.threshold
        return min(1.0, max(0.0, (self.earned - self.tier.threshold) / span))


def tier_index_for(earned: int, tiers: tuple[Tier, ...]) -> int:
    """Index of the highest tier whose threshold `earned` reaches."""
    index = 0
    for i, tier in enumerate(tiers):
        if earned >= tier.threshold:
            index = i
    return index


def standing(earned: int, tiers: tuple[Tier, ...], current: int = 0) -> TierStanding:
    """Where a member stands; `current` is the stored tier, which only drops at
    the end of a period, so it can be above what the window's earnings reach."""
    index = min(max(current, tier_index_for(earned, tiers)), len(tiers) - 1)
    next_tier = tiers[index + 1] if index + 1 < len(tiers) else None
    to_next = max(0, next_tier.threshold - earned) if next_tier else 0
    return TierStanding(index, tiers[index], earned, next_tier, to_next)
