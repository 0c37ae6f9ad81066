"""Secret scans: no webhook URL, webhook secret, API token or database password reaches a caller
without the token, the logs or ``/metrics``; trusted Host headers only."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from api_helpers import AUTH, TOKEN, ticks
from fastapi.testclient import TestClient

SLACK = "https://hooks.slack.com/services/T0SECRET/B0SECRET/slackSECRETpath"
DISCORD = "https://discord.com/api/webhooks/123/discordSECRETpath"
CUSTOM = "https://receiver.example.com/hook?token=customSECRETquery"
HMAC_KEY = "hmacSECRETkey"
SECRETS = ("SECRET", HMAC_KEY, TOKEN)
RULE = {"name": "up", "cooldown_seconds": 0,
        "condition": {"metric": "price", "target": "BTCUSDT", "operator": ">", "threshold": 1},
        "webhooks": [{"kind": "slack", "url": SLACK}, {"kind": "discord", "url": DISCORD},
                     {"kind": "custom", "url": CUSTOM, "secret": HMAC_KEY}]}  # fmt: skip


def _open_gets(client: TestClient) -> list[str]:
    """The paths of every GET operation of the schema without path parameters."""
    schema = client.get("/openapi.json").json()
    return [p for p, ops in schema["paths"].items() if "get" in ops and "{" not in p]


def test_no_secret_reaches_a_caller_without_the_token_nor_the_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    r = client.post("/api/v1/alerts/rules", json=RULE, headers=AUTH)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = client.post("/api/v1/ticks/batch?wait=true", json=ticks("BTCUSDT", [0.5, 2.0]),
                    headers=AUTH)  # fmt: skip
    assert r.json()["accepted"] == 2
    notifier = client.app.state.engine.notifier  # type: ignore[attr-defined]
    client.portal.call(notifier.drain, 30)  # type: ignore[union-attr]
    hist = client.get("/api/v1/alerts/history").json()
    assert hist and hist[0]["delivery"] == "failed"  # nothing resolves here: all refused
    bodies = {path: client.get(path).text for path in _open_gets(client)}
    bodies["rule"] = client.get(f"/api/v1/alerts/rules/{rid}").text
    assert "/metrics" in bodies and "/api/v1/alerts/rules" in bodies
    for where, text in [*bodies.items(), ("logs", caplog.text)]:
        for secret in SECRETS:
            assert secret not in text, (where, secret)
    masked = client.get("/api/v1/alerts/rules").json()[0]["webhooks"]
    assert [w["url"] for w in masked] == ["https://hooks.slack.com/***",
                                          "https://discord.com/***",
                                          "https://receiver.example.com/***"]  # fmt: skip
    full = client.get("/api/v1/alerts/rules", headers=AUTH).json()[0]["webhooks"]
    assert [w["url"] for w in full] == [SLACK, DISCORD, CUSTOM]  # the token holder sees them
    assert all(w["secret"] in (None, "***") for w in full)


def test_untrusted_host_headers_are_refused(app_factory: Callable[..., TestClient]) -> None:
    client = app_factory(trusted_hosts=["localhost", "127.0.0.1", "::1", "*.corp.example"])
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000", "api.corp.example"):
        assert client.get("/health", headers={"Host": host}).status_code == 200, host
    for host in ("attacker.example", "127.0.0.1.attacker.example", "", "corp.example.evil"):
        r = client.get("/api/v1/alerts/rules", headers={"Host": host})
        assert r.status_code == 400 and "STATARB_TRUSTED_HOSTS" in r.text, host
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws", headers={"Host": "attacker.example"}),
    ):
        pass


def test_serve_banner_masks_the_database_password(tmp_path: Path) -> None:
    env = {**os.environ, "STATARB_STORE_URL": "postgresql://quant:hunter2@127.0.0.1:9/prices"}
    env.pop("STATARB_API_TOKEN", None)
    proc = subprocess.run([sys.executable, "-m", "statarb.cli.main", "serve", "--port", "9"],
                          env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert "quant:***@127.0.0.1:9/prices" in out
    assert "hunter2" not in out


BOT_TOKEN = "7000000001:AAHbotSECRETtokenSECRETtoken_-4"
CHAT_ID = "-100987654321"


def test_telegram_token_and_chat_are_masked_and_delivery_works(
    app_factory: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    from _telegram_fake import FakeBotAPI

    caplog.set_level(logging.DEBUG)
    bot = FakeBotAPI()
    try:
        client = app_factory(telegram_api=bot.url, webhook_allow=["127.0.0.0/8"])
        rule = {**RULE, "webhooks": [], "severity": "critical",
                "telegram": [{"chat_id": CHAT_ID, "token": BOT_TOKEN}]}  # fmt: skip
        r = client.post("/api/v1/alerts/rules", json=rule, headers=AUTH)
        assert r.status_code == 201, r.text
        assert r.json()["severity"] == "critical"
        r = client.post("/api/v1/ticks/batch?wait=true", json=ticks("BTCUSDT", [0.5, 2.0]),
                        headers=AUTH)  # fmt: skip
        assert r.json()["accepted"] == 2
        (req,) = bot.wait_for(1)
        assert bot.errors == [] and req["token"] == BOT_TOKEN
        assert req["json"]["chat_id"] == int(CHAT_ID)
        assert req["json"]["text"].startswith("<b>[CRITICAL] up: price(BTCUSDT, tick) &gt; 1")
        engine = client.app.state.engine  # type: ignore[attr-defined]
        client.portal.call(engine.notifier.drain, 30)  # type: ignore[union-attr]
        client.portal.call(engine.journal.flush)  # type: ignore[union-attr]
        (event,) = client.get("/api/v1/alerts/history").json()
        assert event["severity"] == "critical" and event["delivery"] == "delivered"
        bodies = {path: client.get(path).text for path in _open_gets(client)}
        bodies["rule"] = client.get("/api/v1/alerts/rules/1").text
        for where, text in [*bodies.items(), ("logs", caplog.text)]:
            assert BOT_TOKEN not in text and BOT_TOKEN.split(":")[1] not in text, where
            assert CHAT_ID not in text, where
        assert client.get("/api/v1/alerts/rules").json()[0]["telegram"] == [
            {"chat_id": "***", "token": "***"}]  # fmt: skip
        full = client.get("/api/v1/alerts/rules", headers=AUTH).json()[0]["telegram"]
        assert full == [{"chat_id": CHAT_ID, "token": BOT_TOKEN}]  # the token holder may edit
    finally:
        bot.close()
