"""For operators (SPEC §9): `/healthz` (the process runs), `/readyz` (the
database answers and the schema is current, else 503 with the reason),
`/metrics` (Prometheus text format)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from bot.http.deps import deps_of

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 3.0  # a database that takes longer to answer is not ready


def create_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="200 while the process runs")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="200 when the database answers and its schema is current, else 503")
    async def readyz(request: Request) -> JSONResponse:
        try:
            reason = await asyncio.wait_for(deps_of(request).readiness(), CHECK_TIMEOUT)
        except TimeoutError:
            reason = f"the database did not answer within {CHECK_TIMEOUT:g} s"
        except Exception as exc:  # an unreachable database raises from the driver
            reason = f"the database is unreachable ({type(exc).__name__}: {str(exc)[:200]})"
        if reason is not None:
            return JSONResponse({"status": "not_ready", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get("/metrics", summary="Prometheus metrics")
    async def metrics(request: Request) -> Response:
        deps = deps_of(request)
        try:
            deps.metrics.set_outbox(await asyncio.wait_for(deps.outbox_counts(), CHECK_TIMEOUT))
        except Exception as exc:  # the rest of the metrics are still worth a scrape
            log.warning("outbox counts unavailable for /metrics: %r", exc)
        return Response(deps.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router
