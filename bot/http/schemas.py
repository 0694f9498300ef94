"""Request and response bodies of `/api/v1` (SPEC §9.1), with the examples the
OpenAPI document shows at `/api/docs`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

STAMPS_PER_REQUEST = 100  # a sanity bound; the program's daily cap is the real limit

REF_DESCRIPTION = (
    "Member code (W7K2QF), Telegram user id, @username, or a phone number with +, 00 or a leading 0 "
    "(any digits; without a country code it is read in DEFAULT_REGION)."
)


def _as_text(value: Any, what: str) -> str:
    # JSON numbers arrive as Decimal (the body is parsed with parse_float=Decimal), never float.
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{what} must be a string or a number")
    return str(value)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PurchaseIn(_In):
    order_id: str = Field(description="The shop's order id; the idempotency key.", examples=["A-1001"])
    member: str = Field(description=REF_DESCRIPTION, examples=["W7K2QF", "+966501234567"])
    amount: str = Field(description="Decimal string or JSON number, currency units.", examples=["120.50"])
    note: str | None = Field(default=None, description="Shown in the member's history (200 characters).")
    stamps: int | None = Field(
        default=None,
        ge=0,
        le=STAMPS_PER_REQUEST,
        strict=True,
        description="Stamps for the program's stamp card with this purchase (SPEC §11). Stamps over the "
        "member's daily cap are not given (reported as stamps_over_cap); the purchase counts all the same. "
        "A purchase that waits for a phone (202) carries no stamps.",
        examples=[1],
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"order_id": "A-1001", "member": "W7K2QF", "amount": "120.50", "note": "2 lattes", "stamps": 2}
            ]
        },
    )

    @field_validator("member", mode="before")
    @classmethod
    def _member(cls, value: Any) -> str:
        return _as_text(value, "member")

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> str:
        return _as_text(value, "amount")

    @field_validator("order_id", mode="before")
    @classmethod
    def _order(cls, value: Any) -> str:
        return _as_text(value, "order_id")


class PurchaseOut(BaseModel):
    order_id: str = Field(examples=["A-1001"])
    member: str = Field(description="The member code.", examples=["W7K2QF"])
    points: int = Field(examples=[120])
    balance: int = Field(examples=[340])
    stamps: int | None = Field(default=None, description="Stamps given (only when the request had stamps).")
    stamps_over_cap: int | None = Field(default=None, description="Stamps asked for but over the daily cap.")
    stamps_on_card: int | None = Field(default=None, description="Stamps on the member's current card now.")


class PendingOut(BaseModel):
    status: Literal["pending_claim"] = "pending_claim"
    order_id: str = Field(examples=["A-1002"])
    points: int = Field(description="Credited when a member shares this phone.", examples=[120])


class RefundIn(_In):
    refund_id: str = Field(description="The shop's refund id; the idempotency key.", examples=["R-1"])
    order_id: str = Field(examples=["A-1001"])
    amount: str | None = Field(default=None, description="Omitted: the rest of the order.", examples=["50"])

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"refund_id": "R-1", "order_id": "A-1001", "amount": "50"}]}
    )

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> str | None:
        return None if value is None else _as_text(value, "amount")

    @field_validator("refund_id", "order_id", mode="before")
    @classmethod
    def _refs(cls, value: Any) -> str:
        return _as_text(value, "id")


class RefundOut(BaseModel):
    refund_id: str = Field(examples=["R-1"])
    order_id: str = Field(examples=["A-1001"])
    reversed: int = Field(description="Points taken back.", examples=[50])
    unrecovered: int = Field(description="Points already spent, which could not be taken back.", examples=[0])
    balance: int | None = Field(description="None while the order's points wait for a phone.", examples=[290])


class MemberOut(BaseModel):
    code: str = Field(examples=["W7K2QF"])
    first_name: str | None = Field(examples=["Layla"])
    language: str = Field(examples=["ar"])
    tier: str = Field(description="The tier's name in English (else its first name).", examples=["Gold"])
    tier_index: int = Field(description="0 for the first tier.", examples=[1])
    balance: int = Field(examples=[340])
    joined_at: datetime
    stamps: int | None = Field(
        default=None, description="Stamps on the current card; present only when the program has stamp cards."
    )


class EventIn(_In):
    event_id: str = Field(description="The caller's id of this event; the idempotency key.", examples=["ev-2031"])
    member: str = Field(description=REF_DESCRIPTION, examples=["W7K2QF"])
    action: str = Field(description="The id of an `api` earning action of the program.", examples=["review"])

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"event_id": "ev-2031", "member": "W7K2QF", "action": "review"}]},
    )

    @field_validator("member", "event_id", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> str:
        return _as_text(value, "value")


class EventOut(BaseModel):
    event_id: str = Field(examples=["ev-2031"])
    member: str = Field(description="The member code.", examples=["W7K2QF"])
    action: str = Field(examples=["review"])
    status: Literal["credited", "over_limit"] = Field(
        description="credited: the points were paid; over_limit: the action's limit for this period was reached "
        "before, nothing was paid (the event is kept, and answers the same again)."
    )
    points: int = Field(examples=[20])
    balance: int = Field(examples=[360])


class RewardOut(BaseModel):
    id: int
    name: dict[str, str] = Field(examples=[{"en": "Free coffee", "ar": "قهوة مجانية", "fa": "قهوه رایگان"}])
    kind: str = Field(examples=["free_product"])
    value: str | None = Field(default=None, examples=[None])


class VoucherOut(BaseModel):
    code: str = Field(examples=["KQ7-4H2M9XR"])
    status: Literal["active", "used", "expired"]
    reward: RewardOut | None
    member: str | None = Field(description="The member code.", examples=["W7K2QF"])
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
