"""Paper trading over the API and the WebSocket: start, trade on ingested ticks, read, stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from api_helpers import AUTH, ticks
from fastapi.testclient import TestClient

SMALL = {"window": 10, "z_window": 10, "coint_window": 20, "coint_every": 5, "drift_bars": 2}


def _rows(n: int, spike: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(5)
    x = 100.0 + np.cumsum(rng.normal(0, 0.1, n))
    y = 1.5 * x + 20 + rng.normal(0, 0.02, n)
    y[spike] += 1.0  # one bar far above the band: short the spread, out when it reverts
    ya = ticks("AAAUSDT", np.round(y, 4).tolist())
    xb = ticks("BBBUSDT", np.round(x, 4).tolist())
    return [r for pair in zip(ya, xb, strict=True) for r in pair]


def _pair(client: TestClient) -> int:
    body = {"a": "AAAUSDT", "b": "BBBUSDT", "timeframe": "1s", "settings": SMALL}
    r = client.post("/api/v1/book", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_a_strategy_trades_the_ingested_tape_and_its_ledger_is_served(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory()
    pid = _pair(client)
    settings = {"entry": 2.5, "notional": 1000.0, "half_spread_bps": 2.0}
    assert client.post("/api/v1/paper/start", json={"pair_id": pid, "settings": settings}
                       ).status_code == 401  # fmt: skip
    r = client.post("/api/v1/paper/start", json={"pair_id": pid, "settings": settings},
                    headers=AUTH)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["entry"] == 2.5 and r.json()["position"]["status"] == "flat"
    rule = {"name": "paper fill", "cooldown_seconds": 0,
            "condition": {"metric": "paper_fill", "target": "AAAUSDT/BBBUSDT", "timeframe": "1s",
                          "operator": ">=", "threshold": 1}}  # fmt: skip
    r = client.post("/api/v1/alerts/rules", json=rule, headers=AUTH)
    assert r.status_code == 201, r.text
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"action": "subscribe", "topics": ["paper"]})
        assert ws.receive_json()["type"] == "subscribed"
        r = client.post("/api/v1/ticks/batch?wait=true", json=_rows(80, 50), headers=AUTH)
        assert r.status_code == 200, r.text
        msg = ws.receive_json()
        assert msg["topic"] == "paper" and msg["type"] == "changes"
        assert {"orders", "fills", "events", "positions"} <= set(msg["data"])
    orders = client.get("/api/v1/paper/orders", params={"pair_id": pid, "limit": 50}).json()
    fills = client.get("/api/v1/paper/fills", params={"pair_id": pid}).json()
    assert len(fills) >= 4 and len(fills) % 2 == 0  # whole round trips on both legs
    by_id = {o["client_id"]: o for o in orders}
    for f in fills:  # the next trade after the close, with the assumed half-spread
        o = by_id[f["client_id"]]
        assert o["status"] == "filled" and f["ts"] >= o["sent"]
        assert f["source"] == "trade" and f["assumed_spread"] is True
        assert f["base"] > 0 and abs(f["price"] / f["base"] - 1) <= 1.01e-4
    (pos,) = client.get("/api/v1/paper/positions").json()
    assert pos["pair_id"] == pid and pos["trades"] >= 1 and pos["fees"] > 0
    pnl = client.get("/api/v1/paper/pnl").json()
    assert pnl["total"]["trades"] == pos["trades"]
    assert len(pnl["curve"]) == len(fills)
    assert abs(pnl["curve"][-1]["equity"] - (pos["realised"] - pos["fees"])) < 1e-9
    first = min(f["ts"] for f in fills)
    later = client.get("/api/v1/paper/fills", params={"start": first + 1}).json()
    assert len(later) == sum(f["ts"] > first for f in fills) < len(fills)
    fired = client.get("/api/v1/alerts/history").json()
    tickets = {f["client_id"].rsplit("-", 1)[0][:-2] for f in fills}  # pair, bar and purpose
    # one alert per written change set with fills: each ticket's at most (writes may merge)
    assert 1 <= len(fired) <= len(tickets)
    assert all(e["values"] == {"paper_fill:AAAUSDT/BBBUSDT:1s": 1.0} for e in fired)
    evs = client.get("/api/v1/paper/events", params={"pair_id": pid, "limit": 1000}).json()
    kinds = [e["kind"] for e in reversed(evs)]
    assert kinds[:2] == ["signal", "order"] and kinds.count("fill") == len(fills)
    assert "opened" in kinds and "closed" in kinds
    st = client.get("/api/v1/paper/status").json()
    assert [s["pair_id"] for s in st["strategies"]] == [pid] and st["counts"]["fills"] >= 4
    r = client.post("/api/v1/paper/stop", json={"pair_id": pid, "flatten": False}, headers=AUTH)
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get("/api/v1/paper/status").json()["strategies"] == []


def test_bad_requests_name_the_problem(client: TestClient) -> None:
    r = client.post("/api/v1/paper/start", json={"pair_id": 9}, headers=AUTH)
    assert r.status_code == 404 and "book pair 9" in r.json()["detail"]
    assert r.headers["content-type"].startswith("application/problem+json")
    pid = _pair(client)
    r = client.post("/api/v1/paper/start", json={"pair_id": pid, "settings": {"entri": 2}},
                    headers=AUTH)  # fmt: skip
    assert r.status_code == 422 and "entri" in r.text
    r = client.post("/api/v1/paper/start", json={"pair_id": pid, "settings": {"exit": 3.0}},
                    headers=AUTH)  # fmt: skip
    assert r.status_code == 422 and "exit" in r.text
    r = client.post("/api/v1/paper/stop", json={"pair_id": pid}, headers=AUTH)
    assert r.status_code == 404
    assert client.get("/api/v1/paper/fills", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/paper/orders", params={"start": "soon"}).status_code == 422
    assert client.get("/api/v1/paper/orders", params={"status": "lost"}).status_code == 422
