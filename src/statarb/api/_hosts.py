"""Trusted ``Host`` headers: the API answers only the names it is meant to be reached by.

A web page an attacker controls can make a browser resolve the attacker's domain to 127.0.0.1
(DNS rebinding) and read the open GET endpoints from the same origin. Such requests carry the
attacker's domain in ``Host``; refusing every name not configured closes that door. Loopback
names are trusted by default; add the names (or addresses) the API is reached by with
``STATARB_TRUSTED_HOSTS`` (``*`` trusts any, ``*.example.com`` a domain and its subdomains).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

WILDCARD = "*"


def host_name(header: str) -> str:
    """The host of a ``Host`` header value, without port or IPv6 brackets, lower case.

    Examples
    --------
    >>> host_name("[::1]:8000"), host_name("LocalHost:80"), host_name("example.com")
    ('::1', 'localhost', 'example.com')
    """
    value = header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(header: str, trusted: Iterable[str]) -> bool:
    """Whether the ``Host`` header names one of ``trusted`` (see the module docs)."""
    name = host_name(header)
    if not name:
        return False
    for pattern in trusted:
        p = host_name(pattern) if not pattern.startswith("*.") else pattern.lower()
        if p in (WILDCARD, name) or (p.startswith("*.") and name.endswith(p[1:])):
            return True
    return False


class TrustedHosts:
    """ASGI middleware refusing HTTP (400) and WebSocket (403) requests with an untrusted Host."""

    def __init__(self, app: Any, *, hosts: Iterable[str]) -> None:
        self.app, self.hosts = app, tuple(hosts)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope.get("headers") or []
                       if k == b"host"), "")  # fmt: skip
        if host_allowed(header, self.hosts):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "untrusted Host"})
            return
        from statarb.api.problems import PROBLEM_MEDIA, problem_bytes

        body = problem_bytes(400, "untrusted Host header: add the name this API is reached by to "
                             "STATARB_TRUSTED_HOSTS")  # fmt: skip
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", PROBLEM_MEDIA.encode()),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def trusted_hosts(configured: Iterable[str], api_host: str) -> list[str]:
    """The configured names plus the address the API binds, when it is a specific one."""
    hosts = list(configured)
    if api_host not in ("0.0.0.0", "::", "") and api_host not in hosts:
        hosts.append(api_host)
    return hosts


__all__ = ["TrustedHosts", "host_allowed", "host_name", "trusted_hosts"]
