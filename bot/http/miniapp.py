"""The Telegram Mini App (SPEC §10): the page at `/app/` and its JSON API at `/app/api/`.

Every API call carries `Authorization: tma <initData>`, checked as Telegram
documents (`bot.http.initdata`): missing, forged, stale or made for another
bot is 401 and nothing runs. A user who is not a member is 403
`not_a_member`; a customer on a staff route is 403 `staff_only`. Refusals
carry the chat's error codes and the chat's sentence in the member's
language: `{"error": {"code", "message"}}`.

The words and numbers come from the Telegram layer's presenter
(`bot.telegram.miniapp.MiniAppPresenter`, handed over by the composition
root), so the page shows exactly what the chat would say, with the same
digits and calendar. The page itself is plain HTML, CSS and JS under
`bot/http/static/miniapp/` (no build step, nothing fetched from a CDN but
Telegram's own `telegram-web-app.js`).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from bot.domain.errors import DomainError, NotAMember
from bot.http.api import read_body
from bot.http.deps import deps_of
from bot.http.errors import DOMAIN_ERRORS, ApiError, error_response
from bot.http.initdata import InitDataError, WebAppUser, validate

STATIC = Path(__file__).resolve().parent / "static" / "miniapp"
KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# Refusals that are input mistakes (422) or missing things (404); every other
# refusal of a Mini App action (a used, foreign or unaffordable token, a
# double tap) is a conflict with the state: 409.
STATUS = {
    "not_a_member": 403,
    "invalid_period": 422,
    "invalid_amount": 422,
    "amount_too_large": 422,
    "member_not_found": 404,
    "member_forgotten": 404,
    "voucher_mistyped": 404,
    "voucher_unknown": 404,
    "voucher_foreign": 404,
    "voucher_expired": 410,
}
CSP = (
    "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors https://web.telegram.org https://*.telegram.org"
)


class Viewer(Protocol):
    user_id: int
    member: Any | None
    role: str
    lang: str

    @property
    def is_staff(self) -> bool: ...


class Presenter(Protocol):
    """What the Telegram layer provides (bot.telegram.miniapp.MiniAppPresenter)."""

    def language(self, code: str | None) -> str: ...
    async def viewer(self, user_id: int, language_code: str | None) -> Any: ...
    def describe(self, lang: str, error: DomainError) -> str: ...
    def staff_only(self, lang: str) -> str: ...
    def owner_only(self, lang: str) -> str: ...
    def ui(self, lang: str) -> dict[str, Any]: ...
    async def me(self, viewer: Any) -> dict[str, Any]: ...
    async def rewards(self, viewer: Any) -> dict[str, Any]: ...
    async def redeem(self, viewer: Any, reward_id: int, token: str) -> dict[str, Any]: ...
    async def history(self, viewer: Any, *, before: int | None, after: int | None) -> dict[str, Any]: ...
    async def invite(self, viewer: Any) -> dict[str, Any]: ...
    async def award(self, viewer: Any, member_text: str, amount_text: str, key: str) -> tuple[dict[str, Any], bool]: ...
    async def redeem_voucher(self, viewer: Any, code: str, key: str) -> dict[str, Any]: ...
    async def stats(self, viewer: Any, days_text: str | None) -> dict[str, Any]: ...


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=64, description="The one-time token GET /app/api/rewards gave.")


class AwardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member: str = Field(min_length=1, max_length=200, description="Member code, its QR (t.me …?start=m-<code>), "
                        "@username, phone or Telegram id.")
    amount: str = Field(min_length=1, max_length=40, description="Currency units, any digits (Latin, ۰-۹, ٠-٩).")
    key: str = Field(description="Made by the client once per purchase (8-64 of A-Z a-z 0-9 _ -); "
                     "sending it again answers 200 with the same body and changes nothing.")


class VoucherIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str | None = Field(default=None, description="Optional client key: a retry answers the first result.")


def presenter_of(request: Request) -> Presenter:
    presenter = deps_of(request).miniapp
    if presenter is None:
        raise ApiError(404, "not_found", "The Mini App is not served by this process.")
    result: Presenter = presenter
    return result


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def refusal(presenter: Presenter, lang: str, error: DomainError) -> Refusal:
    known = DOMAIN_ERRORS.get(error.code)
    status = STATUS.get(error.code) or (known[0] if known else 409)
    return Refusal(status, error.code, presenter.describe(lang, error))


async def authenticated(request: Request) -> WebAppUser:
    deps = deps_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, data = header.partition(" ")
    if scheme.lower() != "tma" or not data.strip():
        raise ApiError(401, "unauthenticated", "Send the Mini App's init data as Authorization: tma <initData>.")
    token = deps.settings.bot_token
    if not token:
        raise ApiError(401, "invalid_init_data", "This process has no bot token to check init data with.")
    try:
        return validate(data.strip(), token, now=deps.ctx.now())
    except InitDataError as exc:
        raise ApiError(401, exc.code, exc.message) from None


async def member_viewer(request: Request, user: WebAppUser = Depends(authenticated)) -> Any:
    presenter = presenter_of(request)
    viewer = await presenter.viewer(user.id, user.language_code)
    if viewer.member is None and not viewer.is_staff:
        raise refusal(presenter, viewer.lang, NotAMember())
    return viewer


async def staff_viewer(request: Request, user: WebAppUser = Depends(authenticated)) -> Any:
    presenter = presenter_of(request)
    viewer = await presenter.viewer(user.id, user.language_code)
    if not viewer.is_staff:
        raise Refusal(403, "staff_only", presenter.staff_only(viewer.lang))
    return viewer


def _needs_member(presenter: Presenter, viewer: Any) -> None:
    if viewer.member is None:  # staff who never joined still get the cashier screen
        raise refusal(presenter, viewer.lang, NotAMember())


async def _body(request: Request, model: type[BaseModel]) -> Any:
    return await read_body(request, model)


def create_router() -> APIRouter:
    router = APIRouter(tags=["mini app"])

    @router.get("/app", include_in_schema=False)
    async def app_root() -> Response:
        return RedirectResponse("/app/", status_code=308)

    @router.get("/app/", include_in_schema=False)
    async def page() -> Response:
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})

    @router.get("/app/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        types = {"app.js": "text/javascript", "app.css": "text/css"}
        if name not in types:
            raise ApiError(404, "not_found", "No such file.")
        return FileResponse(STATIC / name, media_type=types[name], headers={"Cache-Control": "no-cache"})

    api = APIRouter(prefix="/app/api")

    @api.get("/ui", summary="The page's labels in a language (no init data needed: the outside-Telegram notice)")
    async def ui(request: Request, lang: str = "") -> JSONResponse:
        presenter = presenter_of(request)
        return JSONResponse(presenter.ui(presenter.language(lang[:16] or None)))

    async def guarded(presenter: Presenter, viewer: Any, call: Any) -> Any:
        try:
            return await call
        except DomainError as error:
            raise refusal(presenter, viewer.lang, error) from None

    @api.get("/me", summary="The member card, as /balance")
    async def me(request: Request, viewer: Any = Depends(member_viewer)) -> JSONResponse:
        presenter = presenter_of(request)
        if viewer.member is None:  # a staff member who never joined: the cashier screen only
            return JSONResponse({**presenter.ui(viewer.lang), "role": viewer.role, "code": None, "balance": None})
        return JSONResponse(await guarded(presenter, viewer, presenter.me(viewer)))

    @api.get("/rewards", summary="The catalog; affordable rewards carry a one-time token")
    async def catalog(request: Request, viewer: Any = Depends(member_viewer)) -> JSONResponse:
        presenter = presenter_of(request)
        _needs_member(presenter, viewer)
        return JSONResponse(await guarded(presenter, viewer, presenter.rewards(viewer)))

    @api.post("/rewards/{reward_id}/redeem", status_code=201, summary="Redeem with the token: a voucher")
    async def redeem(reward_id: int, request: Request, viewer: Any = Depends(member_viewer)) -> JSONResponse:
        presenter = presenter_of(request)
        _needs_member(presenter, viewer)
        body = await _body(request, RedeemIn)
        out = await guarded(presenter, viewer, presenter.redeem(viewer, reward_id, body.token))
        deps_of(request).wake_outbox()
        return JSONResponse(out, status_code=201)

    @api.get("/history", summary="The ledger, newest first: ?before=<id> older, ?after=<id> newer")
    async def ledger(
        request: Request, before: int | None = None, after: int | None = None, viewer: Any = Depends(member_viewer)
    ) -> JSONResponse:
        presenter = presenter_of(request)
        _needs_member(presenter, viewer)
        return JSONResponse(await guarded(presenter, viewer, presenter.history(viewer, before=before, after=after)))

    @api.get("/invite", summary="The member's invitation link and Telegram's share link")
    async def invite(request: Request, viewer: Any = Depends(member_viewer)) -> JSONResponse:
        presenter = presenter_of(request)
        _needs_member(presenter, viewer)
        return JSONResponse(await guarded(presenter, viewer, presenter.invite(viewer)))

    @api.post("/award", status_code=201, summary="Staff: record a purchase, as /award")
    async def award(request: Request, viewer: Any = Depends(staff_viewer)) -> JSONResponse:
        presenter = presenter_of(request)
        body = await _body(request, AwardIn)
        if not KEY.fullmatch(body.key):
            raise ApiError(422, "invalid_field", "key: 8-64 of A-Z a-z 0-9 _ -", field="key")
        out, replayed = await guarded(
            presenter, viewer, presenter.award(viewer, body.member, body.amount, f"miniapp:{viewer.user_id}:{body.key}")
        )
        if not replayed:
            deps_of(request).wake_outbox()
        return JSONResponse(out, status_code=200 if replayed else 201)

    @api.post("/vouchers/{code}/redeem", summary="Staff: use a voucher, as /redeem")
    async def use_voucher(code: str, request: Request, viewer: Any = Depends(staff_viewer)) -> JSONResponse:
        presenter = presenter_of(request)
        raw = await request.body()
        key = None
        if raw.strip():
            body = await _body(request, VoucherIn)
            key = body.key
            if key is not None and not KEY.fullmatch(key):
                raise ApiError(422, "invalid_field", "key: 8-64 of A-Z a-z 0-9 _ -", field="key")
        attempt = f"miniapp:{viewer.user_id}:redeem:{key or uuid.uuid4().hex}"
        out = await guarded(presenter, viewer, presenter.redeem_voucher(viewer, code[:40], attempt))
        deps_of(request).wake_outbox()
        return JSONResponse(out)

    @api.get("/stats", summary="Owners: the /stats numbers and chart")
    async def stats(request: Request, days: str | None = None, viewer: Any = Depends(staff_viewer)) -> JSONResponse:
        presenter = presenter_of(request)
        if viewer.role != "owner":
            raise Refusal(403, "owner_only", presenter.owner_only(viewer.lang))
        return JSONResponse(await guarded(presenter, viewer, presenter.stats(viewer, days)))

    router.include_router(api)
    return router


def install(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def _refused(request: Request, exc: Refusal) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)
