"""Shop webhooks, `POST /hooks/<platform>` (SPEC §9.2): one module per platform.

Each request: the platform's secret configured (else 404), the signature
checked on the raw body (else 401, nothing parsed), the documented payload
turned into paid orders and refunds (`bot.http.hooks.base`), each recorded
through `bot.services.orders` exactly as the API records it. A handled
webhook answers 200, and so does one that changes nothing (an unknown topic,
an unpaid status, a redelivery, an order for another currency), so that the
platform does not retry it; the body says what happened.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from types import ModuleType
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.domain.errors import DomainError
from bot.domain.orders import OrderNotFound, RefundExceedsOrder
from bot.domain.phones import to_e164
from bot.http.deps import HttpDeps, deps_of
from bot.http.errors import error_response
from bot.http.hooks import salla, shopify, woocommerce, zid
from bot.http.hooks.base import Event, Ignored, Paid, Refunded
from bot.services import orders

log = logging.getLogger(__name__)
PLATFORMS: dict[str, ModuleType] = {m.NAME: m for m in (salla, zid, woocommerce, shopify)}


async def apply(deps: HttpDeps, platform: str, found: list[Event]) -> list[dict[str, Any]]:
    """Record what the webhook means; one line of outcome per event."""
    results: list[dict[str, Any]] = []
    for event in found:
        if isinstance(event, Ignored):
            results.append({"outcome": "ignored", "reason": event.reason})
        elif isinstance(event, Paid):
            results.append(await _purchase(deps, platform, event))
        elif isinstance(event, Refunded):
            results.append(await _refund(deps, platform, event))
    if any(r["outcome"] in ("earned", "pending_claim", "refunded") for r in results):
        deps.wake_outbox()
    log.info("%s webhook: %s", platform, results)
    return results


async def _purchase(deps: HttpDeps, platform: str, event: Paid) -> dict[str, Any]:
    ctx = deps.ctx
    base = {"order_id": event.order_id}
    if event.currency and event.currency.upper() != ctx.program.currency:
        return {**base, "outcome": "ignored", "reason": f"currency {event.currency} is not {ctx.program.currency}"}
    region = event.country if event.country and len(event.country) == 2 else ctx.region
    phone = to_e164(event.phone, region)
    if phone is None:
        return {**base, "outcome": "ignored", "reason": "no valid phone number"}
    try:
        result = await orders.record_purchase(
            ctx,
            source=platform,
            order_id=event.order_id,
            member_ref=phone,
            amount_text=str(event.amount),
            note=None,
            via=platform,
        )
    except DomainError as exc:
        return {**base, "outcome": "refused", "reason": exc.code}
    if result.replayed:
        return {**base, "outcome": "already_recorded"}
    return {**base, "outcome": "pending_claim" if result.pending else "earned", "points": result.points}


async def _refund(deps: HttpDeps, platform: str, event: Refunded) -> dict[str, Any]:
    base = {"order_id": event.order_id, "refund_id": event.refund_id}
    try:
        result = await orders.record_refund(
            deps.ctx,
            source=platform,
            refund_id=event.refund_id,
            order_id=event.order_id,
            amount_text=str(event.amount) if event.amount is not None else None,
            via=platform,
            clamp=True,
        )
    except OrderNotFound:
        return {**base, "outcome": "ignored", "reason": "no such order earned points"}
    except RefundExceedsOrder:
        return {**base, "outcome": "ignored", "reason": "nothing left to refund"}
    except DomainError as exc:
        return {**base, "outcome": "refused", "reason": exc.code}
    if result.replayed:
        return {**base, "outcome": "already_recorded"}
    return {**base, "outcome": "refunded", "reversed": result.reversed, "unrecovered": result.unrecovered}


def create_router() -> APIRouter:
    router = APIRouter(prefix="/hooks", tags=["shop webhooks"])

    @router.post("/{platform}", summary="A shop platform's webhook (salla, zid, woocommerce, shopify)")
    async def hook(platform: str, request: Request) -> JSONResponse:
        module = PLATFORMS.get(platform)
        deps = deps_of(request)
        secret = module.secret(deps.settings) if module is not None else None
        if module is None or not secret:
            return error_response(404, "not_found", "No webhook is configured here.")
        body = await request.body()
        headers = request.headers  # case-insensitive, as HTTP means them
        if not module.verify(body, headers, request.query_params, secret):
            return error_response(401, "bad_signature", "The webhook signature is missing or wrong.")
        if module is woocommerce and woocommerce.is_ping(body):
            return JSONResponse({"ok": True, "results": [{"outcome": "ignored", "reason": "ping"}]})
        try:
            payload = json.loads(body, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            return error_response(400, "malformed_json", "The body is not valid JSON.")
        found = module.events(payload, headers)
        return JSONResponse({"ok": True, "results": await apply(deps, platform, found)})

    return router
