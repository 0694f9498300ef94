"""The HTTP app factory: one FastAPI app per bot process (SPEC §9)."""

from __future__ import annotations

from fastapi import FastAPI

from bot.http import api, errors, health, hooks, miniapp, telegram
from bot.http.deps import HttpDeps
from bot.http.middleware import BodyLimit, CountRequests

DESCRIPTION = """\
Wafa's API for the shop's systems (a POS, an online shop) and its shop webhooks.

Every `/api/v1` request carries `Authorization: Bearer <key>`; make a key with
`wafa apikey create NAME [--scopes S,S]`. Errors are
`{"error": {"code": "<snake_case>", "message": "<English sentence>"}}`.
Amounts are decimal strings (or JSON numbers) in the program's currency;
Persian and Arabic-Indic digits are read like Latin ones.
"""


def create_http_app(deps: HttpDeps) -> FastAPI:
    app = FastAPI(
        title="Wafa",
        version="1",
        description=DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.deps = deps
    errors.install(app)
    miniapp.install(app)
    app.include_router(api.create_router())
    app.include_router(hooks.create_router())
    app.include_router(health.create_router())
    app.include_router(miniapp.create_router())
    if deps.telegram is not None:
        app.include_router(telegram.create_router(deps.telegram))
    # Outermost last: requests are counted even when the body limit answers 413.
    app.add_middleware(BodyLimit)
    app.add_middleware(CountRequests, metrics=deps.metrics)
    return app
