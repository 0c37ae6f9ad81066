"""Webhook delivery as receivers expect it: Retry-After, escaping, mentions, bounded replies."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from statarb.alerts.evaluator import Trigger
from statarb.alerts.notify import Notifier, build_request, sign, verify
from statarb.alerts.rules import Webhook

LOCAL = ("127.0.0.1/32",)


def _trig(message: str) -> Trigger:
    return Trigger(1, "r", 1_723_118_400_000_000, {}, message)


class _Raw:
    """An asyncio TCP server whose every connection runs ``behaviour(reader, writer)``."""

    def __init__(self, behaviour: Any) -> None:
        self.behaviour, self.seen = behaviour, list[float]()

    async def __aenter__(self) -> _Raw:
        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            self.seen.append(time.monotonic())
            try:
                await r.readuntil(b"\r\n\r\n")
                await self.behaviour(r, w)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                w.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()


@pytest.fixture
async def notifier() -> AsyncIterator[Notifier]:
    n = Notifier(timeout=1.0, deadline=3.0, retries=3, backoff=0.0, allow=LOCAL)
    yield n
    await n.aclose()


async def test_retry_after_on_429_is_honoured(notifier: Notifier) -> None:
    answers = [b"HTTP/1.1 429 Too Many\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
               b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]  # fmt: skip

    async def reply(r: Any, w: Any) -> None:
        w.write(answers.pop(0))
        await w.drain()

    async with _Raw(reply) as srv:
        res = await notifier.deliver(Webhook("slack", srv.url), _trig("x"))
    assert res.ok and res.attempts == 2
    assert srv.seen[1] - srv.seen[0] >= 0.95  # waited as asked, not the 0 s backoff


async def test_a_retry_after_beyond_the_bound_fails_at_once(notifier: Notifier) -> None:
    async def reply(r: Any, w: Any) -> None:
        w.write(b"HTTP/1.1 429 Too Many\r\nRetry-After: 86400\r\nContent-Length: 0\r\n\r\n")
        await w.drain()

    async with _Raw(reply) as srv:
        res = await notifier.deliver(Webhook("slack", srv.url), _trig("x"))
    assert not res.ok and res.attempts == 1 and "Retry-After" in (res.error or "")


async def test_a_dripping_receiver_is_cut_at_the_deadline(notifier: Notifier) -> None:
    async def drip(r: Any, w: Any) -> None:
        for _ in range(600):  # one byte every 50 ms of a status line that never ends
            w.write(b"H")
            await w.drain()
            await asyncio.sleep(0.05)

    async with _Raw(drip) as srv:
        res = await asyncio.wait_for(
            notifier.deliver(Webhook("slack", srv.url), _trig("x")), timeout=25
        )
    assert not res.ok and res.error in ("timed out", "deadline exceeded")


async def test_a_huge_reply_body_is_never_read(notifier: Notifier) -> None:
    sent = [0]

    async def huge(r: Any, w: Any) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 1000000000\r\n\r\n")
        chunk = b"\0" * 65536
        while sent[0] < 64 * 1024 * 1024:  # stops if nobody reads
            w.write(chunk)
            await w.drain()
            sent[0] += len(chunk)

    async with _Raw(huge) as srv:
        res = await notifier.deliver(Webhook("custom", srv.url), _trig("x"))
    assert res.ok and res.status == 200
    assert sent[0] < 16 * 1024 * 1024  # the reader hung up instead of inflating it


def test_slack_text_is_escaped_and_discord_pings_nobody() -> None:
    trig = _trig("<!channel> & <@U1> spread > 2 <http://evil|click>")
    body, _ = build_request(Webhook("slack", "https://hooks.slack.com/x"), trig)
    assert json.loads(body) == {
        "text": "&lt;!channel&gt; &amp; &lt;@U1&gt; spread &gt; 2 &lt;http://evil|click&gt;"
    }
    body, _ = build_request(Webhook("discord", "https://discord.com/x"), _trig("@everyone up"))
    assert json.loads(body)["allowed_mentions"] == {"parse": []}


def test_custom_signature_covers_a_timestamp() -> None:
    hook = Webhook("custom", "https://example.com/h", "k3y")
    body, headers = build_request(hook, _trig("x"), timestamp=1_700_000_000)
    assert headers["X-Statarb-Timestamp"] == "1700000000"
    sig = headers["X-Statarb-Signature"]
    assert sig == sign(body, "k3y", 1_700_000_000)
    assert verify(body, "k3y", timestamp="1700000000", signature=sig, now=1_700_000_100)
    # a replay later, another timestamp, or another body does not verify
    assert not verify(body, "k3y", timestamp="1700000000", signature=sig, now=1_700_001_000)
    assert not verify(body, "k3y", timestamp="1700000001", signature=sig, now=1_700_000_000)
    assert not verify(body + b" ", "k3y", timestamp="1700000000", signature=sig,
                      now=1_700_000_000)  # fmt: skip
