"""`/api/v1` for the shop's systems (SPEC §9.1): members, purchases, refunds, vouchers.

Bodies are read after the key is checked (an unauthenticated request is 401
whatever its body), parsed with JSON numbers as decimals, and validated by
the pydantic models of `bot.http.schemas`, whose schemas and examples make
the OpenAPI document.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from bot.domain.program import pick_text
from bot.http.auth import require
from bot.http.deps import deps_of
from bot.http.errors import ApiError, ErrorOut, validation_error
from bot.http.schemas import (
    EventIn,
    EventOut,
    MemberOut,
    PendingOut,
    PurchaseIn,
    PurchaseOut,
    RefundIn,
    RefundOut,
    RewardOut,
    VoucherOut,
)
from bot.services import actions, orders, vouchers
from bot.services.api_keys import KeyInfo

Model = TypeVar("Model", bound=BaseModel)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    texts = {
        401: "Missing, unknown or revoked API key.",
        403: "The key lacks this route's scope.",
        404: "Not found.",
        409: "Conflict with an earlier request.",
        410: "Gone (expired).",
        413: "Body over 64 KiB.",
        422: "Malformed JSON or an invalid field (named in the error).",
    }
    return {status: {"model": ErrorOut, "description": texts[status]} for status in statuses}


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    extra = model.model_config.get("json_schema_extra") or {}
    examples = extra.get("examples") if isinstance(extra, dict) else None
    content: dict[str, Any] = {"schema": model.model_json_schema()}
    if isinstance(examples, list) and examples:
        content["example"] = examples[0]
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


async def read_body(request: Request, model: type[Model]) -> Model:
    raw = await request.body()
    try:
        data = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(422, "malformed_json", "The body is not valid JSON.", field="body") from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_field", "body: expected a JSON object", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def create_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["api"])

    @router.get(
        "/members/{ref}",
        response_model=MemberOut,
        responses=_errors(401, 403, 404, 409, 422),
        summary="A member by code, Telegram id, @username or phone",
    )
    async def get_member(
        ref: str, request: Request, key: KeyInfo = Depends(require("members:read"))
    ) -> JSONResponse:
        ctx = deps_of(request).ctx
        member = await orders.lookup_member(ctx, ref)
        tiers = ctx.program.tiers
        index = min(member.tier, len(tiers) - 1)
        out = MemberOut(
            code=member.code,
            first_name=member.first_name,
            language=member.language,
            tier=pick_text(dict(tiers[index].name), "en"),
            tier_index=index,
            balance=member.balance,
            joined_at=member.joined_at,
        )
        body = out.model_dump(mode="json", exclude={"stamps"})
        if ctx.program.stamps is not None:  # "stamps" only when the program has stamp cards (SPEC §9.1)
            body["stamps"] = int(member.stamps)
        return JSONResponse(body)

    @router.post(
        "/purchases",
        status_code=201,
        response_model=PurchaseOut,
        openapi_extra=_body_doc(PurchaseIn),
        responses={
            200: {
                "model": PurchaseOut,
                "description": "This order_id was recorded before: the first result, nothing changed.",
            },
            202: {"model": PendingOut, "description": "No member has this phone yet: the points wait (SPEC §9.3)."},
            **_errors(401, 403, 404, 409, 413, 422),
        },
        summary="Record a purchase; the member earns as with /award and is told in Telegram",
    )
    async def purchase(request: Request, key: KeyInfo = Depends(require("purchases:write"))) -> JSONResponse:
        body = await read_body(request, PurchaseIn)
        deps = deps_of(request)
        result = await orders.record_purchase(
            deps.ctx,
            source="api",
            order_id=body.order_id,
            member_ref=body.member,
            amount_text=body.amount,
            note=body.note,
            via=f"api:{key.name}",
            stamps=body.stamps,
        )
        if not result.replayed:
            deps.wake_outbox()
        if result.pending:
            out: BaseModel = PendingOut(order_id=result.order_id, points=result.points)
            return JSONResponse(out.model_dump(mode="json"), status_code=202)
        assert result.member_code is not None and result.balance is not None
        out = PurchaseOut(
            order_id=result.order_id,
            member=result.member_code,
            points=result.points,
            balance=result.balance,
            stamps=result.stamps,
            stamps_over_cap=result.stamps_over_cap,
            stamps_on_card=result.stamps_on_card,
        )
        return JSONResponse(out.model_dump(mode="json", exclude_none=True), status_code=200 if result.replayed else 201)

    @router.post(
        "/refunds",
        status_code=201,
        response_model=RefundOut,
        openapi_extra=_body_doc(RefundIn),
        responses={
            200: {"model": RefundOut, "description": "This refund_id was recorded before: the first result."},
            **_errors(401, 403, 404, 409, 413, 422),
        },
        summary="Take back the points a refunded part of an order earned",
    )
    async def refund(request: Request, key: KeyInfo = Depends(require("refunds:write"))) -> JSONResponse:
        body = await read_body(request, RefundIn)
        deps = deps_of(request)
        result = await orders.record_refund(
            deps.ctx,
            source="api",
            refund_id=body.refund_id,
            order_id=body.order_id,
            amount_text=body.amount,
            via=f"api:{key.name}",
        )
        if not result.replayed:
            deps.wake_outbox()
        out = RefundOut(
            refund_id=result.refund_id,
            order_id=result.order_id,
            reversed=result.reversed,
            unrecovered=result.unrecovered,
            balance=result.balance,
        )
        return JSONResponse(out.model_dump(mode="json"), status_code=200 if result.replayed else 201)

    @router.get(
        "/vouchers/{code}",
        response_model=VoucherOut,
        responses=_errors(401, 403, 404),
        summary="A voucher's status, without using it",
    )
    async def voucher(code: str, request: Request, key: KeyInfo = Depends(require("vouchers:write"))) -> VoucherOut:
        view = await vouchers.voucher_status(deps_of(request).ctx, code)
        return _voucher_out(
            view.code, view.status, view.reward, view.member, view.created_at, view.expires_at, view.used_at
        )

    @router.post(
        "/vouchers/{code}/redeem",
        response_model=VoucherOut,
        responses=_errors(401, 403, 404, 409, 410),
        summary="Use a voucher, as /redeem at the counter",
        description="Send the same `Idempotency-Key` header again to retry safely: the second call answers 200 "
        "with the first result instead of 409 voucher_used.",
    )
    async def redeem(
        code: str,
        request: Request,
        key: KeyInfo = Depends(require("vouchers:write")),
        idempotency_key: str | None = Header(default=None, alias="Idempotency-Key", max_length=64),
    ) -> VoucherOut:
        deps = deps_of(request)
        attempt = idempotency_key or uuid.uuid4().hex
        result = await vouchers.redeem_voucher(
            deps.ctx,
            staff_id=0,
            text=code,
            key=f"api:{key.name}:redeem:{attempt}"[:160],
            via=f"api:{key.name}",
        )
        deps.wake_outbox()
        v = result.voucher
        return _voucher_out(v.code, "used", result.reward, result.member, v.created_at, v.expires_at, v.used_at)

    @router.post(
        "/events",
        status_code=201,
        response_model=EventOut,
        openapi_extra=_body_doc(EventIn),
        responses={
            200: {"model": EventOut, "description": "This event_id was recorded before: the first result."},
            **_errors(401, 403, 404, 409, 413, 422),
        },
        summary="An earning action of the program done elsewhere (verify = \"api\"); its limits apply",
    )
    async def event(request: Request, key: KeyInfo = Depends(require("events:write"))) -> JSONResponse:
        body = await read_body(request, EventIn)
        deps = deps_of(request)
        result = await actions.record_action_event(deps.ctx, body.event_id, body.member, body.action)
        if not result.duplicate:
            deps.wake_outbox()
        out = EventOut(
            event_id=body.event_id.strip(),
            member=result.member.code,
            action=result.action.id,
            status=result.status,  # an API event is credited or over_limit
            points=result.points,
            balance=result.balance,
        )
        return JSONResponse(out.model_dump(mode="json"), status_code=200 if result.duplicate else 201)

    return router


def _voucher_out(code: str, status: str, reward: Any, member: Any, created: Any, expires: Any, used: Any) -> VoucherOut:
    reward_out = None
    if reward is not None:
        reward_out = RewardOut(
            id=reward.id,
            name=dict(reward.name),
            kind=reward.kind,
            value=str(reward.value) if reward.value is not None else None,
        )
    return VoucherOut(
        code=code,
        status=status,
        reward=reward_out,
        member=member.code if member is not None else None,
        created_at=created,
        expires_at=expires,
        used_at=used,
    )
