"""Calls from the dashboard to the engine's API (httpx with short timeouts).

Every failure becomes an :class:`EngineUnavailableError` (nothing answered) or an
:class:`EngineError` (an error status) whose message a page can show as it is. Write calls carry
the ``STATARB_API_TOKEN`` bearer token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from statarb.dashboard.data import settings
from statarb.errors import StatarbError

if TYPE_CHECKING:
    import httpx


class EngineUnavailableError(StatarbError):
    """The engine's API did not answer (not started, wrong URL, timed out)."""


class EngineError(StatarbError):
    """The engine answered with an error (the message carries its detail)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@st.cache_resource(show_spinner=False)
def _client(base_url: str) -> httpx.Client:
    import httpx

    return httpx.Client(base_url=base_url, timeout=httpx.Timeout(5.0, connect=3.0))


def _headers(write: bool) -> dict[str, str]:
    # reads carry the token too: rules then come with their webhook URLs (masked otherwise)
    token = settings().api_token
    return {"Authorization": f"Bearer {token}"} if token else {}


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail)


def api(method: str, path: str, **kwargs: Any) -> Any:
    """Call the engine's API; return the decoded JSON (``None`` for 204).

    Raises
    ------
    EngineUnavailableError
        The API is not reachable at ``settings().api_url``.
    EngineError
        It answered with an error status (message includes the engine's detail).
    """
    import httpx

    url = settings().api_url
    write = method.upper() != "GET"
    try:
        resp = _client(url).request(method, path, headers=_headers(write), **kwargs)
    except httpx.HTTPError as exc:
        raise EngineUnavailableError(
            f"the engine is not reachable at {url} ({type(exc).__name__}); start it with "
            "`statarb serve` or `statarb up`, or set STATARB_API_URL"
        ) from None
    if resp.status_code in (401, 403):
        hint = "" if settings().api_token else " (no STATARB_API_TOKEN is set for the dashboard)"
        raise EngineError(
            f"the engine refused the request: {_detail(resp)}{hint}", resp.status_code
        )
    if resp.status_code >= 400:
        raise EngineError(
            f"{method} {path} failed ({resp.status_code}): {_detail(resp)}", resp.status_code
        )
    return None if resp.status_code == 204 or not resp.content else resp.json()


@st.cache_data(ttl=1.0, show_spinner=False)
def feeds_status(api_url: str) -> dict[str, Any]:
    """``GET /api/v1/feeds`` (cached a second; ``api_url`` keys the cache)."""
    status = api("GET", "/api/v1/feeds")
    _last_status()[api_url] = status
    return status


@st.cache_resource(show_spinner=False)
def _last_status() -> dict[str, dict[str, Any]]:
    return {}


def last_feeds_status(api_url: str) -> dict[str, Any] | None:
    """The newest ``GET /api/v1/feeds`` answer, or the last one seen when the engine does not
    answer right now (a busy engine must not relabel live data as stored), ``None`` if never."""
    try:
        return feeds_status(api_url)
    except EngineUnavailableError:
        return _last_status().get(api_url)


def feed_summary(status: dict[str, Any]) -> dict[str, Any]:
    """Sidebar figures from ``GET /api/v1/feeds``: connected, msgs/s, lag, gaps, symbols."""
    feeds = status.get("feeds", [])
    stats = [f.get("stats") or {} for f in feeds]
    lags = [s["latency_p50_ms"] for s in stats if s.get("latency_p50_ms") is not None]
    return {
        "feeds": len(feeds),
        "connected": bool(feeds) and all(s.get("connected") for s in stats),
        "messages": sum(int(s.get("messages", 0)) for s in stats),
        "lag_ms": max(lags) if lags else None,
        "gaps": sum(int(s.get("gaps", 0)) for s in stats),
        "backfilled": sum(int(s.get("backfilled", 0)) for s in stats),
        "symbols": sorted({sym for f in feeds for sym in f.get("symbols", [])}),
    }


def upload_file(name: str, content: bytes, symbol: str | None) -> dict[str, Any]:
    """``POST /api/v1/ticks/file``: the engine imports the file; returns its import report."""
    params = {"symbol": symbol} if symbol else {}
    return api(
        "POST", "/api/v1/ticks/file", files={"file": (name, content)}, params=params, timeout=600.0
    )
