"""The Binance USD-M stream control protocol as a pure state machine (for the replay server).

Paths: ``/<route>/stream?streams=a/b`` (combined) and ``/<route>/ws[/a/b]`` (raw) for the routes
``market`` and ``public``; legacy unrouted ``/ws`` and ``/stream`` carry public streams only.
Requests SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY get the
documented replies; errors are nested ``{"error": {"code", "msg"}, "id"}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from statarb.protocol.binance import CONTROL_METHODS, stream_route_of

ConnRoute = Literal["market", "public", "legacy"]
METHODS = CONTROL_METHODS


def stream_route(name: str) -> Literal["market", "public"] | None:
    """The route of a well-formed stream name, ``None`` if the name is invalid."""
    return stream_route_of(name)


def parse_path(path: str) -> tuple[ConnRoute, bool, list[str]] | None:
    """``(route, combined, streams)`` of a WebSocket request path, ``None`` if not a stream path."""
    parts = urlsplit(path)
    segs = [unquote(s) for s in parts.path.split("/") if s]
    route: ConnRoute = "legacy"
    if segs and segs[0] in ("market", "public"):
        route = segs[0]  # type: ignore[assignment]
        segs = segs[1:]
    if not segs:
        return None
    if segs[0] == "stream" and len(segs) == 1:
        raw = parse_qs(parts.query).get("streams", [""])[0]
        return route, True, [s for s in raw.split("/") if s]
    if segs[0] == "ws":
        return route, False, segs[1:]
    return None


@dataclass
class ConnState:
    """What one connection has asked for."""

    route: ConnRoute
    combined: bool
    subs: list[str] = field(default_factory=list)

    def delivers(self, name: str) -> bool:
        """Whether a frame of stream ``name`` is pushed on this connection."""
        if name not in self.subs:
            return False
        r = stream_route(name)
        return r == self.route or (self.route == "legacy" and r == "public")


def _error(code: int, msg: str, req_id: Any) -> dict[str, Any]:
    return {"error": {"code": code, "msg": msg}, "id": req_id}


def _valid_id(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return v >= 0
    return isinstance(v, str) and 0 < len(v) <= 64


def handle_control(state: ConnState, text: str | bytes, *, max_streams: int) -> dict[str, Any]:
    """Apply one control request to ``state`` and return the reply object.

    The caller closes the connection when ``len(state.subs) > max_streams`` afterwards.
    """
    try:
        req = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return _error(3, f"Invalid JSON: expected value at line {exc.lineno} column {exc.colno}",
                      None)  # fmt: skip
    if not isinstance(req, dict) or "method" not in req:
        return _error(2, "Invalid request: missing field `method`", None)
    req_id = req.get("id")
    if not _valid_id(req_id):
        return _error(2, "Invalid request: request ID must be an unsigned integer", None)
    method, params = req["method"], req.get("params", [])
    if method not in METHODS:
        opts = ", ".join(f"`{m}`" for m in METHODS)
        return _error(2, f"Invalid request: unknown variant `{method}`, expected one of {opts}",
                      req_id)  # fmt: skip
    if not isinstance(params, list):
        return _error(2, "Invalid request: params must be an array", req_id)
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        return _subscription(state, method, params, req_id, max_streams)
    if method == "LIST_SUBSCRIPTIONS":
        return {"result": list(state.subs), "id": req_id}
    return _property(state, method, params, req_id)


def _subscription(
    state: ConnState, method: str, params: list[Any], req_id: Any, max_streams: int
) -> dict[str, Any]:
    if not params:
        return _error(2, "Invalid request: missing parameters", req_id)
    if any(not isinstance(p, str) or stream_route(p) is None for p in params):
        return _error(2, "Invalid request: invalid stream", req_id)
    if method == "SUBSCRIBE":
        for p in params:
            if p not in state.subs:
                state.subs.append(p)
    else:
        state.subs[:] = [s for s in state.subs if s not in params]
    return {"result": None, "id": req_id}


def _property(state: ConnState, method: str, params: list[Any], req_id: Any) -> dict[str, Any]:
    want = 2 if method == "SET_PROPERTY" else 1
    if len(params) > want:
        return _error(2, "Invalid request: too many parameters", req_id)
    if len(params) < want:
        return _error(2, "Invalid request: missing parameters", req_id)
    if not isinstance(params[0], str):
        return _error(2, "Invalid request: property name must be a string", req_id)
    if params[0] != "combined":
        return {"error": {"code": 0, "msg": "Unknown property"}, "id": req_id}
    if method == "GET_PROPERTY":
        return {"result": state.combined, "id": req_id}
    if not isinstance(params[1], bool):
        return _error(1, "Invalid value type: expected Boolean", req_id)
    state.combined = params[1]
    return {"result": None, "id": req_id}


__all__ = ["ConnState", "handle_control", "parse_path", "stream_route"]
