"""Surveys (SPEC §3 `/feedback`, §5 survey follow-up): NPS and CSAT rules and arithmetic.

NPS asks "how likely are you to recommend us" on 0–10: promoters answer
9–10, passives 7–8, detractors 0–6; the score is the share of promoters
minus the share of detractors, from −100 to +100. CSAT asks "how satisfied
were you" on 1–5; the score is the share of satisfied answers (4 or 5).
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from bot.domain.errors import DomainError


class SurveyKind(enum.StrEnum):
    NPS = "nps"
    CSAT = "csat"


class Trigger(enum.StrEnum):
    FEEDBACK = "feedback"  # the member typed /feedback
    POST_PURCHASE = "post_purchase"  # the `surveys` job, a few hours after a purchase
    REDEMPTION = "redemption"  # after a voucher was used


class Status(enum.StrEnum):
    OPEN = "open"  # offered, not answered
    ANSWERED = "answered"  # score given; the optional comment step is open
    CLOSED = "closed"  # comment given, skipped, or the comment step timed out
    SUPERSEDED = "superseded"  # a newer /feedback replaced it before it was answered


SCALES = {SurveyKind.NPS: range(0, 11), SurveyKind.CSAT: range(1, 6)}

# Buttons of a survey stay valid this long; older ones change nothing.
ANSWER_WINDOW = timedelta(days=7)
# After the score, the member may add a comment. A detractor alert waits for
# the comment (or Skip); when neither comes, the `surveys` job sends it
# without the comment once this much time has passed.
COMMENT_WAIT = timedelta(minutes=15)
# A comment typed later than this after the score is no longer taken as one.
COMMENT_GRACE = timedelta(hours=24)
COMMENT_LIMIT = 1000
# Purchases older than this (beyond the follow-up delay) are not surveyed
# any more: a missed job run does not ask about last month's coffee.
FOLLOWUP_LOOKBACK = timedelta(hours=48)
# The redemption survey comes a little after the voucher was used.
CSAT_DELAY = timedelta(minutes=30)


class SurveyAnswered(DomainError):
    code = "survey_answered"


class SurveyExpired(DomainError):
    code = "survey_expired"


class CommentTooLong(DomainError):
    code = "comment_too_long"


def valid_score(kind: str, score: int) -> bool:
    try:
        return score in SCALES[SurveyKind(kind)]
    except ValueError:
        return False


def needs_alert(kind: str, score: int | None) -> bool:
    """A detractor (NPS 0–6) or an unhappy CSAT (1–2): the owner and staff hear at once."""
    if score is None:
        return False
    return score <= 6 if kind == SurveyKind.NPS else score <= 2


def nps_category(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def percent(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` in percent, exact; None when there is nothing to divide."""
    if whole <= 0:
        return None
    return Decimal(part) * 100 / Decimal(whole)


def round_half_up(value: Decimal) -> int:
    """Rounds halves away from zero (−12.5 → −13, 12.5 → 13), the way NPS is reported."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class NpsResult:
    promoters: int
    passives: int
    detractors: int

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> int | None:
        """% promoters − % detractors, rounded half away from zero; None without answers."""
        value = percent(self.promoters - self.detractors, self.answers)
        return None if value is None else round_half_up(value)


def nps_from_counts(counts: dict[int, int]) -> NpsResult:
    """NPS from {score: number of answers}."""
    promoters = passives = detractors = 0
    for score, n in counts.items():
        category = nps_category(score)
        if category == "promoter":
            promoters += n
        elif category == "passive":
            passives += n
        else:
            detractors += n
    return NpsResult(promoters, passives, detractors)


def nps(scores: Iterable[int]) -> NpsResult:
    counts: dict[int, int] = {}
    for score in scores:
        counts[score] = counts.get(score, 0) + 1
    return nps_from_counts(counts)


@dataclass(frozen=True)
class CsatResult:
    satisfied: int  # answers of 4 or 5
    answers: int
    total: int  # sum of all scores, for the average

    @property
    def score(self) -> int | None:
        """Share of satisfied answers in percent, rounded; None without answers."""
        value = percent(self.satisfied, self.answers)
        return None if value is None else round_half_up(value)

    @property
    def average(self) -> Decimal | None:
        if not self.answers:
            return None
        return (Decimal(self.total) / self.answers).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def csat_from_counts(counts: dict[int, int]) -> CsatResult:
    satisfied = sum(n for score, n in counts.items() if score >= 4)
    return CsatResult(satisfied, sum(counts.values()), sum(score * n for score, n in counts.items()))


def csat(scores: Iterable[int]) -> CsatResult:
    counts: dict[int, int] = {}
    for score in scores:
        counts[score] = counts.get(score, 0) + 1
    return csat_from_counts(counts)


def answerable(offered_at: datetime, now: datetime) -> bool:
    return now - offered_at <= ANSWER_WINDOW


def bonus_due(last_bonus_at: datetime | None, now: datetime, min_days_between: int) -> bool:
    """One survey bonus per member per `surveys.min_days_between` days, so /feedback cannot be farmed."""
    return last_bonus_at is None or now - last_bonus_at >= timedelta(days=min_days_between)


def may_ask(last_asked_at: datetime | None, now: datetime, min_days_between: int) -> bool:
    """The bot asks a member at most once per `surveys.min_days_between` days, whatever the trigger."""
    return last_asked_at is None or now - last_asked_at >= timedelta(days=min_days_between)
