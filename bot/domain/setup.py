"""The program edited in chat (`/setup`): the rules for each answer, and the new program.

Plain functions over `Program`: a typed answer is parsed and checked here
(a negative rate, a threshold not above the previous tier's, an unknown
currency are refused with a `DomainError`), and `apply_setup` builds the new,
fully validated program from the current one and the answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import ValidationError

from bot.domain.digits import NotANumber, parse_decimal, parse_int
from bot.domain.earning import points_for_purchase
from bot.domain.errors import DomainError
from bot.domain.program import LANGS, Program

# ISO 4217 (active codes), plus IRT: the toman, 10 rials, what Iranian shops price in.
ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
    GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
    LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    IRT""".split()  # noqa: SIM905 - a table is easier to check than a list literal
)
# The short list offered as buttons (any other code may be typed).
COMMON_CURRENCIES = ("IRT", "IRR", "SAR", "AED", "IQD", "AFN", "USD", "EUR")
NAME_LIMIT = 60
MAX_BONUS = 1_000_000
MAX_THRESHOLD = 100_000_000
MAX_REWARD_COST = 10_000_000


class InvalidSetupValue(DomainError):
    """details: field (name | currency | rate | bonus | threshold | reward_cost), and what the rule needs."""

    code = "invalid_setup_value"


class ProgramChanged(DomainError):
    """Someone saved the program while this /setup was open: start again to see their change."""

    code = "program_changed"


def parse_name(text: str) -> str:
    name = " ".join((text or "").split())
    if not name or name.startswith("/") or len(name) > NAME_LIMIT:
        raise InvalidSetupValue(field="name", limit=NAME_LIMIT)
    return name


def parse_currency(text: str) -> str:
    code = (text or "").strip().upper()
    if code not in ISO_4217:
        raise InvalidSetupValue(field="currency", text=(text or "").strip()[:12])
    return code


def parse_rate(text: str) -> Decimal:
    """The amount of money that earns one point (e.g. `1000`, `۱٬۰۰۰`, `0.5`) → points per unit."""
    try:
        spend = parse_decimal(text, max_places=4)
    except NotANumber:
        raise InvalidSetupValue(field="rate") from None
    if spend <= 0 or spend > Decimal(100_000_000):
        raise InvalidSetupValue(field="rate")
    rate = (Decimal(1) / spend).quantize(Decimal("0.0000000001"), rounding=ROUND_HALF_UP)
    if rate <= 0 or rate > 10000:
        raise InvalidSetupValue(field="rate")
    return rate.normalize()


def spend_per_point(rate: Decimal) -> Decimal:
    """The inverse of `parse_rate`: how much money earns one point."""
    return (Decimal(1) / rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()


def example_amount(currency: str) -> Decimal:
    """A typical purchase to show the rate with: 250,000 toman or rial, 100 elsewhere."""
    return Decimal(250_000) if currency in ("IRT", "IRR", "IQD", "LBP", "SYP", "UZS", "VND", "IDR") else Decimal(100)


def example_points(program: Program, rate: Decimal, amount: Decimal) -> int:
    earning = program.earning.model_copy(update={"points_per_unit": rate})
    return points_for_purchase(amount, earning)


def parse_bonus(text: str) -> int:
    try:
        value = parse_int(text)
    except NotANumber:
        raise InvalidSetupValue(field="bonus", limit=MAX_BONUS) from None
    if value < 0 or value > MAX_BONUS:
        raise InvalidSetupValue(field="bonus", limit=MAX_BONUS)
    return value


def parse_threshold(text: str, previous: int) -> int:
    """Points to reach a tier: more than the previous tier's threshold."""
    try:
        value = parse_int(text)
    except NotANumber:
        raise InvalidSetupValue(field="threshold", previous=previous) from None
    if value <= previous or value > MAX_THRESHOLD:
        raise InvalidSetupValue(field="threshold", previous=previous)
    return value


def parse_reward_cost(text: str) -> int:
    try:
        value = parse_int(text)
    except NotANumber:
        raise InvalidSetupValue(field="reward_cost", limit=MAX_REWARD_COST) from None
    if value <= 0 or value > MAX_REWARD_COST:
        raise InvalidSetupValue(field="reward_cost", limit=MAX_REWARD_COST)
    return value


@dataclass
class SetupAnswers:
    """What the owner answered; None keeps the current value."""

    name: dict[str, str] = field(default_factory=dict)
    currency: str | None = None
    rate: Decimal | None = None
    bonuses: dict[str, int] = field(default_factory=dict)  # signup, birthday, referrer, referee
    thresholds: list[int] | None = None  # tiers[1:], ascending
    reward_name: str | None = None
    reward_cost: int | None = None
    reward_lang: str = "en"


def apply_setup(program: Program, answers: SetupAnswers) -> tuple[Program, dict[str, Any]]:
    """The new program, and what changed (for the audit log)."""
    data = program.model_dump(mode="json")
    changes: dict[str, Any] = {}
    name = {**program.name, **{k: v for k, v in answers.name.items() if k in LANGS}}
    if name != program.name:
        data["name"] = name
        changes["name"] = name
    if answers.currency is not None and answers.currency != program.currency:
        data["currency"] = changes["currency"] = answers.currency
    if answers.rate is not None and answers.rate != program.earning.points_per_unit:
        data["earning"]["points_per_unit"] = changes["points_per_unit"] = str(answers.rate)
    for key, value in answers.bonuses.items():
        if getattr(program.bonuses, key) != value:
            data["bonuses"][key] = value
            changes[f"bonuses.{key}"] = value
    if answers.thresholds is not None:
        for index, threshold in enumerate(answers.thresholds, start=1):
            if index < len(data["tiers"]) and data["tiers"][index]["threshold"] != threshold:
                data["tiers"][index]["threshold"] = threshold
                changes[f"tiers[{index}].threshold"] = threshold
    if answers.reward_name and answers.reward_cost:
        # Each /setup reward gets a fresh seed id, so the catalog adds it once.
        reward_id = _next_reward_id([r["id"] for r in data["rewards"]])
        data["rewards"].append({"id": reward_id, "name": {answers.reward_lang: answers.reward_name},
                                "cost": answers.reward_cost, "kind": "gift"})
        changes["reward"] = {"id": reward_id, "name": answers.reward_name, "cost": answers.reward_cost}
    try:
        return Program.model_validate(data), changes
    except ValidationError as exc:  # pragma: no cover - every answer was checked on the way
        raise InvalidSetupValue(field="program", error=str(exc.errors()[0].get("msg"))) from None


def _next_reward_id(ids: list[str]) -> str:
    number = 1
    while f"setup-{number}" in ids:
        number += 1
    return f"setup-{number}"


def program_document(program: Program) -> dict[str, Any]:
    """The program as stored (JSON-safe)."""
    return program.model_dump(mode="json")


def program_from_document(document: dict[str, Any]) -> Program:
    return Program.model_validate(document)
