"""Webhook delivery to a real local HTTP receiver: payload shapes, HMAC, retries, dead ends."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from statarb.alerts.evaluator import Trigger
from statarb.alerts.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, Delivery, Notifier
from statarb.alerts.rules import Webhook

LOCAL = ("127.0.0.1/32",)
TRIG = Trigger(3, "wide", 1_723_118_400_000_000, {"zscore:A/B:1m": 2.5}, "wide: z=2.5")


class Receiver:
    """A local HTTP server recording requests and answering with scripted status codes."""

    def __init__(self, codes: list[int] | None = None) -> None:
        self.codes = list(codes or [])
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.path, dict(self.headers), body))
                code = outer.codes.pop(0) if outer.codes else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


async def test_slack_and_discord_payload_shapes(receiver: Receiver) -> None:
    n = Notifier(backoff=0.0, allow=LOCAL)
    try:
        slack = await n.deliver(Webhook("slack", receiver.url + "/slack"), TRIG)
        discord = await n.deliver(Webhook("discord", receiver.url + "/discord"), TRIG)
    finally:
        await n.aclose()
    assert slack.ok and discord.ok and slack.attempts == 1
    (p1, h1, b1), (p2, _, b2) = receiver.requests
    assert p1 == "/slack" and json.loads(b1) == {"text": "wide: z=2.5"}
    assert p2 == "/discord" and json.loads(b2) == {
        "content": "wide: z=2.5",
        "allowed_mentions": {"parse": []},
    }
    assert SIGNATURE_HEADER not in h1 and h1["Content-Type"] == "application/json"


async def test_custom_payload_is_signed(receiver: Receiver) -> None:
    n = Notifier(backoff=0.0, allow=LOCAL)
    try:
        res = await n.deliver(Webhook("custom", receiver.url, "k3y"), TRIG, event_id=17)
    finally:
        await n.aclose()
    assert res.ok
    _, headers, body = receiver.requests[0]
    stamp = headers[TIMESTAMP_HEADER]
    signed = stamp.encode() + b"." + body
    expect = "sha256=" + hmac.new(b"k3y", signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE_HEADER], expect)
    assert abs(int(stamp) - time.time()) < 600
    doc = json.loads(body)
    assert doc == {
        "type": "alert", "rule_id": 3, "rule_name": "wide", "time": "2024-08-08T12:00:00.000Z",
        "ts": 1_723_118_400_000_000, "message": "wide: z=2.5", "values": {"zscore:A/B:1m": 2.5},
        "event_id": 17,
    }  # fmt: skip


async def test_retry_on_500_then_200(receiver: Receiver) -> None:
    receiver.codes = [500, 503, 200]
    n = Notifier(backoff=0.01, allow=LOCAL)
    try:
        res = await n.deliver(Webhook("slack", receiver.url), TRIG)
    finally:
        await n.aclose()
    assert res.ok and res.attempts == 3 and res.status == 200
    assert len(receiver.requests) == 3 and n.counts["retries"] == 2


async def test_client_error_is_not_retried(receiver: Receiver) -> None:
    receiver.codes = [404]
    n = Notifier(backoff=0.0, allow=LOCAL)
    try:
        res = await n.deliver(Webhook("slack", receiver.url), TRIG)
    finally:
        await n.aclose()
    assert not res.ok and res.attempts == 1 and res.status == 404 and res.error == "HTTP 404"


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


async def test_dead_endpoints_fail_in_the_background_without_blocking() -> None:
    silent = socket.socket()  # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    hooks = [
        Webhook("slack", f"http://127.0.0.1:{_closed_port()}/"),
        Webhook("custom", f"http://127.0.0.1:{silent.getsockname()[1]}/", "s"),
    ]
    n = Notifier(timeout=0.2, retries=2, backoff=0.01, allow=LOCAL)
    results: list[tuple[int | None, list[Delivery]]] = []
    ticks = 0
    try:
        task = n.submit(TRIG, hooks, event_id=5, done=lambda e, r: results.append((e, r)))
        assert task is not None and n.pending == 1
        while not task.done():  # the loop keeps running while deliveries hang
            ticks += 1
            await asyncio.sleep(0.005)
    finally:
        await n.aclose()
        silent.close()
    assert ticks > 5
    ((eid, res),) = results
    assert eid == 5 and [r.ok for r in res] == [False, False]
    assert all(r.attempts == 2 and r.status is None for r in res)
    assert res[0].error == "connection failed" and res[1].error == "timed out"  # generic text
    assert n.counts["failed"] == 2
