"""Webhook targets: the SSRF matrix, DNS rebinding, redirects, and the generic error text."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from statarb.alerts._target import TargetRefusedError, resolve_target
from statarb.alerts.evaluator import Trigger
from statarb.alerts.notify import Notifier
from statarb.alerts.rules import Webhook

TRIG = Trigger(1, "r", 1_723_118_400_000_000, {}, "r fired")

REFUSED = [
    "http://127.0.0.1/", "http://127.0.0.2:8080/x", "http://0.0.0.0/", "http://10.0.0.1/",
    "http://172.16.5.4/", "http://192.168.1.1/", "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://224.0.0.1/", "http://255.255.255.255/",
    "http://240.0.0.1/",
    # IPv6: loopback, unspecified, mapped IPv4, link-local, unique-local, multicast
    "http://[::1]/", "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
    "http://[fe80::1]/", "http://[fc00::1]/", "http://[ff02::1]/",
    # decimal, octal, hexadecimal and short IPv4 forms of 127.0.0.1
    "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.0.0.1/", "http://0x7f000001/",
    "http://127.1/",
    # names resolving to loopback (or nowhere)
    "http://localhost/", "http://localhost./", "https://localhost:8443/x",
    "http://metadata.google.internal/computeMetadata/v1/",
    # not http(s)
    "ftp://example.com/", "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO",
    "http:///nohost",
]  # fmt: skip


@pytest.mark.parametrize("url", REFUSED)
async def test_non_public_targets_are_refused(url: str) -> None:
    with pytest.raises(TargetRefusedError):
        await resolve_target(url)


async def test_public_address_passes_and_is_pinned() -> None:
    t = await resolve_target("https://93.184.216.34:8443/hook?x=1")
    assert (t.ip, t.port, t.host_header) == ("93.184.216.34", 8443, "93.184.216.34:8443")
    assert t.pinned_url == "https://93.184.216.34:8443/hook?x=1"


class _Sink:
    """Local HTTP servers recording what reached them; ``first`` redirects to ``second``."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.hits.append((self.server.name, self.path, self.headers["Host"]))  # type: ignore[attr-defined]
                if self.path == "/redirect":
                    self.send_response(307)
                    self.send_header("Location", outer.second_url + "/stolen")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.servers = []
        for name in ("first", "second"):
            srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            srv.name = name  # type: ignore[attr-defined]
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            self.servers.append(srv)
        self.port = self.servers[0].server_address[1]
        self.first_url = f"http://127.0.0.1:{self.port}"
        self.second_url = f"http://127.0.0.1:{self.servers[1].server_address[1]}"

    def close(self) -> None:
        for srv in self.servers:
            srv.shutdown()
            srv.server_close()


@pytest.fixture
def sink() -> Iterator[_Sink]:
    s = _Sink()
    yield s
    s.close()


async def _deliver(url: str, **kw: Any) -> Any:
    n = Notifier(backoff=0.0, retries=1, **kw)
    try:
        return await n.deliver(Webhook("custom", url), TRIG)
    finally:
        await n.aclose()


async def test_loopback_receiver_needs_the_allow_list(sink: _Sink) -> None:
    refused = await _deliver(sink.first_url + "/hook")
    assert not refused.ok and refused.error.startswith("refused:") and sink.hits == []
    assert str(sink.port) not in (refused.error or "")  # refused before connecting: no scan
    ok = await _deliver(sink.first_url + "/hook", allow=("127.0.0.1/32",))
    assert ok.ok and sink.hits == [("first", "/hook", f"127.0.0.1:{sink.port}")]


async def test_redirects_are_not_followed(sink: _Sink) -> None:
    res = await _deliver(sink.first_url + "/redirect", allow=("127.0.0.1/32",))
    assert not res.ok and res.status == 307
    assert [h[0] for h in sink.hits] == ["first"]  # the second server was never reached


async def test_the_connection_goes_to_the_address_checked(
    sink: _Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: a name answering loopback once, then elsewhere, is connected to once."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    answers = iter(["127.0.0.1"])

    async def rebinding(host: Any, port: Any, **kw: Any) -> Any:
        if host == "hooks.rebind.test":
            ip = next(answers, "10.9.9.9")  # every later lookup points elsewhere
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
        return await real(host, port, **kw)

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    url = f"http://hooks.rebind.test:{sink.port}/pinned"
    res = await _deliver(url, allow=("127.0.0.1/32",))
    assert res.ok, res.error
    assert sink.hits == [("first", "/pinned", f"hooks.rebind.test:{sink.port}")]
    assert res.url == f"http://hooks.rebind.test:{sink.port}/***"


async def test_a_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()

    async def mixed(host: Any, port: Any, **kw: Any) -> Any:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]  # fmt: skip

    monkeypatch.setattr(loop, "getaddrinfo", mixed)
    with pytest.raises(TargetRefusedError):
        await resolve_target("https://hooks.example.test/x")
