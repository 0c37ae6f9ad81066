"""WebSocket: subscribe and receive ticks, bars and alerts; push ticks with acknowledgements."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from api_helpers import AUTH, TOKEN, ticks
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from statarb.api.ws import CLOSE_TOO_SLOW, BroadcastHub


def _until(ws: WebSocketTestSession, pred: Any, limit: int = 200) -> list[dict[str, Any]]:
    seen = []
    for _ in range(limit):
        msg = ws.receive_json()
        seen.append(msg)
        if pred(msg):
            return seen
    raise AssertionError(f"no matching event in {seen[-5:]}")


def test_subscribe_and_receive_ticks_bars_alerts(client: TestClient) -> None:
    rule = {"name": "up", "condition": {"metric": "price", "target": "BTCUSDT",
            "timeframe": "1s", "operator": ">", "threshold": 102.5}}  # fmt: skip
    assert client.post("/api/v1/alerts/rules", json=rule, headers=AUTH).status_code == 201
    with client.websocket_connect("/ws") as ws:
        topics = ["ticks:BTCUSDT", "bars:BTCUSDT:1s", "alerts"]
        ws.send_json({"action": "subscribe", "topics": topics})
        assert ws.receive_json() == {"topic": "control", "type": "subscribed",
                                     "data": sorted(topics)}  # fmt: skip
        rows = ticks("BTCUSDT", [100.0, 101.0, 103.0, 104.0, 99.0])
        client.post("/api/v1/ticks/batch", json=rows, headers=AUTH)
        seen: list[dict[str, Any]] = []

        def done(m: dict[str, Any]) -> bool:
            seen.append(m)
            return any(x["topic"] == "alerts" for x in seen) and any(
                x["type"] == "bar" and x["data"]["close"] == 104.0 for x in seen
            )

        got = _until(ws, done)
    tick_events = [m for m in got if m["topic"] == "ticks:BTCUSDT"]
    assert tick_events and tick_events[0]["type"] == "ticks"
    assert [t["price"] for t in tick_events[0]["data"]] == [100.0, 101.0, 103.0, 104.0, 99.0]
    bars = [m["data"] for m in got if m["topic"] == "bars:BTCUSDT:1s" and m["type"] == "bar"]
    assert [(b["time"], b["close"]) for b in bars] == [
        ("2024-08-08T12:00:00.000Z", 100.0), ("2024-08-08T12:00:01.000Z", 101.0),
        ("2024-08-08T12:00:02.000Z", 103.0), ("2024-08-08T12:00:03.000Z", 104.0)]  # fmt: skip
    # the alert comes after the bar that fired it (closed at 12:00:03), once it is recorded in
    # the store (off the event loop), so later bars may come first
    kinds = [(m["topic"], m["data"].get("close")) for m in got if m["type"] in ("bar", "alert")]
    fired_by = kinds.index(("bars:BTCUSDT:1s", 103.0))
    assert kinds.index(("alerts", None)) > fired_by
    alert = next(m for m in got if m["topic"] == "alerts")
    assert alert["type"] == "alert" and alert["data"]["values"] == {"price:BTCUSDT:1s": 103.0}
    # the bar closed at 12:00:03 (end of the 12:00:02 bar) is when the rule fired
    assert alert["data"]["time"] == "2024-08-08T12:00:03.000Z" and alert["data"]["id"] >= 1


def test_push_ticks_over_the_socket(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"action": "ticks", "token": "wrong", "id": 1, "data": []})
        err = ws.receive_json()
        assert err["type"] == "error" and "STATARB_API_TOKEN" in err["data"]["message"]
        rows = ticks("ETHUSDT", [10.0, 11.0])
        rows.append({"symbol": "ETHUSDT", "ts": rows[0]["ts"], "price": 0, "size": 1})
        ws.send_json({"action": "ticks", "token": TOKEN, "id": "m1", "data": rows})
        ack = ws.receive_json()
        assert ack["type"] == "ack" and ack["data"]["id"] == "m1"
        assert ack["data"]["accepted"] == 2 and ack["data"]["errors"][0]["index"] == 2
        assert ack["data"]["errors"][0]["field"] == "price"
        ws.send_text("not json")
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"action": "dance"})
        assert "unknown action" in ws.receive_json()["data"]["message"]
    r = client.post("/api/v1/ticks/batch?wait=true", json=[], headers=AUTH)
    assert r.json()["accepted"] == 0
    assert [t["price"] for t in client.get("/api/v1/ticks/ETHUSDT").json()] == [10.0, 11.0]


def test_slow_client_is_dropped_not_waited_for(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"action": "subscribe", "topics": ["ticks:BTCUSDT"]})
        ws.receive_json()
        (slow,) = hub.clients
        # a client whose send queue is full: what a reader that stopped reading looks like
        slow.queue = asyncio.Queue(maxsize=1)
        slow.queue.put_nowait(b"{}")
        for i in range(5):
            r = client.post("/api/v1/ticks", json=ticks("BTCUSDT", [100.0 + i], first_id=i + 1)[0],
                            headers=AUTH)  # fmt: skip
            assert r.status_code == 200
        assert hub.counts["dropped_clients"] == 1 and slow not in hub.clients
        with pytest.raises(WebSocketDisconnect) as info:
            for _ in range(10):
                ws.receive_json()
        assert info.value.code == CLOSE_TOO_SLOW
    r = client.post("/api/v1/ticks?wait=true", json=ticks("BTCUSDT", [1.0], first_id=99)[0],
                    headers=AUTH)  # fmt: skip
    assert r.status_code == 200
    assert len(client.get("/api/v1/ticks/BTCUSDT").json()) == 6


def test_hub_never_blocks_and_drops_only_the_lagging_client() -> None:
    hub = BroadcastHub(max_queue=3)
    fast, slow = hub.connect(), hub.connect()
    hub.subscribe(fast, ["alerts"])
    hub.subscribe(slow, ["alerts", "ticks:X"])
    assert hub.wants("ticks:X") and not hub.wants("ticks:Y")
    for i in range(3):
        hub.publish("alerts", "alert", {"i": i})
        fast.queue.get_nowait()
    hub.publish("alerts", "alert", {"i": 3})
    assert slow.slow.is_set() and slow not in hub.clients and not hub.wants("ticks:X")
    assert fast in hub.clients and hub.counts["dropped_clients"] == 1
    assert orjson.loads(fast.queue.get_nowait()) == {"topic": "alerts", "type": "alert",
                                                      "data": {"i": 3}}  # fmt: skip


def test_hub_drops_a_client_holding_too_many_bytes() -> None:
    hub = BroadcastHub(max_queue=1000, max_bytes=4096)
    big, small = hub.connect(), hub.connect()
    hub.subscribe(big, ["ticks:X"])
    hub.subscribe(small, ["alerts"])
    payload = {"prices": list(range(1000, 1250))}  # about 1.3 kB a message
    for _ in range(3):
        hub.publish("ticks:X", "ticks", payload)
    assert big in hub.clients and 3500 < big.queued_bytes <= 4096
    hub.publish("ticks:X", "ticks", payload)  # the fourth would pass 4 kB
    assert big.slow.is_set() and big not in hub.clients and big.queue.qsize() == 3
    hub.publish("alerts", "alert", {"ok": True})
    assert small in hub.clients and small.queue.qsize() == 1
