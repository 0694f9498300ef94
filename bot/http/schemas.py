"""Request and response bodies of `/api/v1` (SPEC §9.1), with the examples the
OpenAPI document shows at `/api/docs`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"order_id": "A-1001", "member": "W7K2QF", "amount": "120.50", "note": "2 lattes"}]
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
