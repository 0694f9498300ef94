"""Errors as `{"error": {"code", "message"}}` (SPEC §9.1), from one place.

Domain errors keep their codes; each is given its HTTP status and an
English sentence here. Validation errors name the field.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.domain.errors import DomainError

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(status: int, code: str, message: str, field: str | None = None, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status, headers=headers or None)


def _q(error: DomainError, name: str = "query") -> str:
    return str(error.details.get(name, ""))[:70]


# code → (status, public code, field, sentence)
Describe = Callable[[DomainError], str]
DOMAIN_ERRORS: dict[str, tuple[int, str, str | None, Describe]] = {
    "member_not_found": (404, "member_not_found", "member", lambda e: f"No member matches {_q(e)!r}."),
    "member_forgotten": (404, "member_not_found", "member", lambda e: f"No member matches {_q(e)!r}."),
    "ambiguous_member": (
        409,
        "ambiguous_member",
        "member",
        lambda e: f"More than one member matches {_q(e)!r}; use the member code.",
    ),
    "invalid_phone": (
        422,
        "invalid_phone",
        "member",
        lambda e: (
            f"{_q(e)!r} is not a valid phone number"
            + ("" if e.details.get("region") else "; write it with its country code (or set DEFAULT_REGION)")
            + "."
        ),
    ),
    "invalid_amount": (
        422,
        "invalid_amount",
        "amount",
        lambda e: (
            "The amount must be a positive number with at most two decimals"
            + (f", at least {e.details['minimum']}" if e.details.get("minimum") else "")
            + "."
        ),
    ),
    "amount_too_large": (
        422,
        "amount_too_large",
        "amount",
        lambda e: f"The amount is above the program's maximum purchase of {e.details.get('maximum')}.",
    ),
    "note_too_long": (
        422,
        "note_too_long",
        "note",
        lambda e: f"The note is longer than {e.details.get('limit')} characters.",
    ),
    "invalid_reference": (
        422,
        "invalid_reference",
        None,
        lambda e: (
            f"{e.details.get('field')} must be 1-64 letters, digits or . _ : / # -, starting with a letter or digit."
        ),
    ),
    "order_conflict": (
        409,
        "order_conflict",
        "order_id",
        lambda e: f"Order {_q(e, 'order_id')!r} was recorded before with another member or amount.",
    ),
    "order_not_found": (404, "order_not_found", "order_id", lambda e: f"No order {_q(e, 'order_id')!r} was recorded."),
    "refund_conflict": (
        409,
        "refund_conflict",
        "refund_id",
        lambda e: f"Refund {_q(e, 'refund_id')!r} was recorded before for another order or amount.",
    ),
    "refund_exceeds_order": (
        422,
        "refund_exceeds_order",
        "amount",
        lambda e: f"Refunds of an order cannot exceed it: {e.details.get('remaining')} is left to refund.",
    ),
    "voucher_mistyped": (404, "voucher_not_found", "code", lambda e: "No such voucher: the code is mistyped."),
    "voucher_unknown": (404, "voucher_not_found", "code", lambda e: "No voucher has this code."),
    "voucher_foreign": (404, "voucher_not_found", "code", lambda e: "This voucher is not from this shop."),
    "voucher_used": (409, "voucher_used", "code", lambda e: "This voucher was used already."),
    "voucher_expired": (410, "voucher_expired", "code", lambda e: "This voucher has expired."),
    "no_stamp_card": (422, "no_stamp_card", "stamps", lambda e: "The program has no stamp card."),
    "stamp_cap_reached": (
        409,
        "stamp_cap_reached",
        "stamps",
        lambda e: "Another stamping of this member passed the day's cap at the same moment; nothing was recorded. "
        "Send the same request again.",
    ),
    "action_unknown": (404, "action_unknown", "action", lambda e: f"No earning action {_q(e, 'action')!r}."),
    "action_wrong_verification": (
        422,
        "action_wrong_verification",
        "action",
        lambda e: f"Action {_q(e, 'action')!r} is verified by {_q(e, 'verify')!r}, not by the API.",
    ),
    "event_conflict": (
        409,
        "event_conflict",
        "event_id",
        lambda e: f"Event {_q(e, 'event_id')!r} was recorded before for another member or action.",
    ),
    "invalid_event_id": (
        422,
        "invalid_event_id",
        "event_id",
        lambda e: "event_id must be 1-100 characters.",
    ),
}


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_error(exc: ValidationError | RequestValidationError) -> ApiError:
    """422 naming the first invalid field."""
    first = exc.errors()[0]
    field = _field_of(tuple(first.get("loc", ())))
    if first.get("type") == "json_invalid":
        return ApiError(422, "malformed_json", "The body is not valid JSON.", field="body")
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return ApiError(422, "invalid_field", f"{field}: {message}", field=field)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return error_response(exc.status, exc.code, exc.message, exc.field, **headers)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        known = DOMAIN_ERRORS.get(exc.code)
        if known is None:
            log.error("no HTTP mapping for domain error %s", exc.code)
            return error_response(422, exc.code, "The request was refused; nothing was changed.")
        status, code, field, describe = known
        if exc.code == "invalid_reference":
            field = str(exc.details.get("field"))
        return error_response(status, code, describe(exc), field)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        error = validation_error(exc)
        return error_response(error.status, error.code, error.message, error.field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 413: "body_too_large"}
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("HTTP %s %s failed", request.method, request.url.path)
        return error_response(500, "internal_error", "Something went wrong on our side; nothing was changed.")
