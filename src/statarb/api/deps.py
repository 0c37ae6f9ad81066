"""Request dependencies: settings, store, engine and the bearer-token check of write calls.

Write endpoints (posting ticks, feeds, alert rules) need ``Authorization: Bearer <token>`` with
``STATARB_API_TOKEN``. When no token is configured they are refused (403) with a message saying
how to set one; read endpoints are open. The server binds to 127.0.0.1 by default.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from statarb.api.times import TimeRange, time_range
from statarb.config import Settings
from statarb.engine import Engine
from statarb.store.base import TickStore

_bearer = HTTPBearer(auto_error=False, description="STATARB_API_TOKEN")

NO_TOKEN = (
    "write endpoints are disabled because no API token is configured: start the server with "
    "STATARB_API_TOKEN=<secret> and send 'Authorization: Bearer <secret>'"
)


def token_ok(settings: Settings, token: object) -> bool:
    """Whether ``token`` matches the configured API token (constant-time)."""
    expected = settings.api_token
    return (
        bool(expected)
        and isinstance(token, str)
        and hmac.compare_digest(token.encode(), str(expected).encode())
    )


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


def get_store(request: Request) -> TickStore:
    """The app's store."""
    return request.app.state.store


def get_engine(request: Request) -> Engine:
    """The app's engine."""
    return request.app.state.engine


def require_token(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Refuse a write call without the right bearer token."""
    settings = get_settings(request)
    if not settings.api_token:
        raise HTTPException(status.HTTP_403_FORBIDDEN, NO_TOKEN)
    if creds is None or not token_ok(settings, creds.credentials):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong bearer token: send 'Authorization: Bearer <STATARB_API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


def has_token(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> bool:
    """Whether an open read call came with the right token (it then sees webhook URLs)."""
    return creds is not None and token_ok(get_settings(request), creds.credentials)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[TickStore, Depends(get_store)]
EngineDep = Annotated[Engine, Depends(get_engine)]
WriteAuth = Depends(require_token)
HasToken = Annotated[bool, Depends(has_token)]

__all__ = [
    "NO_TOKEN",
    "EngineDep",
    "HasToken",
    "SettingsDep",
    "StoreDep",
    "TimeRange",
    "WriteAuth",
    "get_engine",
    "get_settings",
    "get_store",
    "has_token",
    "require_token",
    "time_range",
    "token_ok",
]
