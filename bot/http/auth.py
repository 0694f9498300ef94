"""`Authorization: Bearer <key>` and the route's scope (SPEC §9.1): 401 for a
missing, unknown or revoked key, 403 for a key without the scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.http.deps import deps_of
from bot.http.errors import ApiError
from bot.services import api_keys
from bot.services.api_keys import KeyInfo

bearer = HTTPBearer(auto_error=False, description="An API key from `wafa apikey create NAME`.")


def require(scope: str) -> Callable[..., Awaitable[KeyInfo]]:
    async def check(request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> KeyInfo:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "unauthenticated", "Send the API key as Authorization: Bearer <key>.")
        key = await api_keys.authenticate(deps_of(request).ctx, credentials.credentials.strip())
        if key is None:
            raise ApiError(401, "invalid_key", "The API key is unknown or was revoked.")
        if scope not in key.scopes:
            raise ApiError(403, "insufficient_scope", f"This key does not have the scope {scope}.")
        return key

    return check
