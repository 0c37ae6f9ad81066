"""Telegram delivery against a local fake of the Bot API that checks the request shape."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from _telegram_fake import FakeBotAPI
from statarb.alerts.dispatch import Batch, Held
from statarb.alerts.message import Message, render
from statarb.alerts.notify import MAX_RETRY_AFTER_S, Notifier
from statarb.alerts.telegram import (
    TelegramChat,
    telegram_request,
    telegram_retry_after,
    telegram_text,
)

TOKEN = "7000000001:AAHsecretSECRETsecretSECRET_-42"
CHAT = TelegramChat("-1001234567890", TOKEN)
LOCAL = ("127.0.0.0/8",)


def _message(text: str = "wide: zscore(A/B, 1m) >= 2 | z=2.5") -> Message:
    h = Held(7, 1, "wide", "critical", "g", ("A/B",), 0, 0, text, {"z": 2.5})
    return render(Batch("c", "now", 0, (h,)))


@pytest.fixture
def bot() -> Iterator[FakeBotAPI]:
    fake = FakeBotAPI()
    yield fake
    fake.close()


async def test_send_message_has_the_bot_api_shape(
    bot: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    n = Notifier(backoff=0.0, allow=LOCAL, telegram_api=bot.url)
    try:
        res = await n.deliver_message(CHAT, _message("<b>z</b> & <a href='x'>click</a> <@all>"))
    finally:
        await n.aclose()
    assert res.ok and res.status == 200 and res.attempts == 1, res
    assert bot.errors == []
    (req,) = bot.requests
    assert req["token"] == TOKEN
    assert req["headers"]["Content-Type"] == "application/json"
    doc = req["json"]
    text = ("<b>[CRITICAL] &lt;b&gt;z&lt;/b&gt; &amp; &lt;a href='x'&gt;click&lt;/a&gt; "
            "&lt;@all&gt;</b>")  # fmt: skip
    assert doc == {"chat_id": -1001234567890, "parse_mode": "HTML",
                   "disable_web_page_preview": True, "text": text}  # fmt: skip
    # the token is in no result, log line or count
    assert TOKEN not in repr(res), res
    assert TOKEN not in caplog.text, caplog.text
    assert res.url == f"{bot.url}/***"
    assert "bot***" in caplog.text or "sendMessage" not in caplog.text


async def test_429_retry_after_from_the_body_is_honoured(bot: FakeBotAPI) -> None:
    bot.replies.append((429, {"ok": False, "error_code": 429,
                              "description": "Too Many Requests: retry after 0",
                              "parameters": {"retry_after": 0}}))  # fmt: skip
    n = Notifier(backoff=0.0, allow=LOCAL, telegram_api=bot.url)
    try:
        res = await n.deliver_message(CHAT, _message())
        assert res.ok and res.attempts == 2
        # a wait beyond the bound is read from the body too: it fails at once, no retry
        bot.replies.append((429, {"ok": False, "error_code": 429, "description": "slow down",
                                  "parameters": {"retry_after": 3600}}))  # fmt: skip
        res = await n.deliver_message(CHAT, _message())
    finally:
        await n.aclose()
    assert not res.ok and res.attempts == 1 and "Retry-After 3600 s is too long" in str(res.error)
    assert len(bot.requests) == 3 and bot.errors == []


async def test_a_refused_chat_is_final_and_the_guard_applies_off_the_official_host(
    bot: FakeBotAPI,
) -> None:
    bot.replies.append((400, {"ok": False, "error_code": 400,
                              "description": "Bad Request: chat not found"}))  # fmt: skip
    n = Notifier(backoff=0.0, allow=LOCAL, telegram_api=bot.url)
    guarded = Notifier(backoff=0.0, telegram_api=bot.url)  # loopback not allowed
    try:
        res = await n.deliver_message(CHAT, _message())
        refused = await guarded.deliver_message(CHAT, _message())
    finally:
        await n.aclose()
        await guarded.aclose()
    assert not res.ok and res.status == 400 and res.attempts == 1
    assert not refused.ok and refused.attempts == 0 and refused.error.startswith("refused")  # type: ignore[union-attr]
    assert len(bot.requests) == 1


def test_long_texts_are_cut_to_telegram_s_limit_and_stay_valid_html() -> None:
    text = telegram_text("[INFO] statarb: 500 alerts", "<&>" * 5000)
    url, body, headers = telegram_request(CHAT, text, base="https://api.telegram.org/")
    assert url == f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    import html

    visible = html.unescape(text.replace("<b>", "").replace("</b>", ""))
    assert len(visible) <= 4096 and visible.endswith(" …")
    assert FakeBotAPI._check(__import__("json").loads(body)) is None
    assert headers["Content-Type"] == "application/json"
    assert telegram_retry_after(b'{"parameters": {"retry_after": 5}}') == 5.0
    assert telegram_retry_after(b"not json") is None
    assert telegram_retry_after(b'{"parameters": {"retry_after": -1}}') is None
    assert MAX_RETRY_AFTER_S < 3600


async def test_the_official_host_is_reached_by_name_over_tls_without_the_address_check() -> None:
    import httpx

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True, "result": {"message_id": 1}})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    n = Notifier(backoff=0.0, client=client)  # the default base: https://api.telegram.org
    try:
        res = await n.deliver_message(CHAT, _message())
    finally:
        await n.aclose()
        await client.aclose()
    assert res.ok and res.url == "https://api.telegram.org/***"
    (req,) = seen
    assert str(req.url) == f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    assert req.headers["host"] == "api.telegram.org" and "sni_hostname" not in req.extensions
