"""The book of pairs over the API and the WebSocket: add, analyse live, persist, remove."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from api_helpers import AUTH, T0, ticks
from fastapi.testclient import TestClient

SMALL = {"window": 10, "z_window": 10, "coint_window": 20, "coint_every": 5, "drift_bars": 2}


def _legs(n: int, seed: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    x = 100.0 + np.cumsum(rng.normal(0, 0.1, n))
    u = np.zeros(n)
    for t in range(1, n):
        u[t] = 0.7 * u[t - 1] + rng.normal(0, 0.1)
    y = 1.5 * x + 20 + u
    return ticks("AAAUSDT", np.round(y, 4).tolist()), ticks("BBBUSDT", np.round(x, 4).tolist())


def _post_bars(client: TestClient, n: int) -> None:
    ya, xb = _legs(n)
    rows = [r for pair in zip(ya, xb, strict=True) for r in pair]  # both legs each second
    r = client.post("/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH)
    assert r.status_code == 200, r.text


def test_a_pair_is_added_analysed_each_bar_persisted_and_removed(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory()
    body = {"a": "aaausdt", "b": "BBBUSDT", "timeframe": "1s", "settings": SMALL}
    r = client.post("/api/v1/book", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    row = r.json()
    pid = row["id"]
    assert (row["a"], row["b"], row["timeframe"]) == ("AAAUSDT", "BBBUSDT", "1s")
    assert row["settings"]["window"] == 10 and row["analytics"] is None
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"action": "subscribe", "topics": ["book"]})
        assert ws.receive_json()["type"] == "subscribed"
        _post_bars(client, 80)
        msg = ws.receive_json()
        assert msg["topic"] == "book" and msg["type"] == "row" and msg["data"]["id"] == pid
    rows = client.get("/api/v1/book").json()
    assert len(rows) == 1
    a = rows[0]["analytics"]
    assert a["bars"] == 79  # the last second's bar is still open
    assert a["time"] == (T0 + 78_000) * 1000
    assert abs(a["hedge_ratio"] - 1.5) < 0.5 and a["zscore"] is not None
    assert a["health"] in ("holding", "weakening", "broken") and a["signal"] in (
        "flat",
        "long",
        "short",
    )
    assert len(rows[0]["zscores"]) == 60
    # the same pair again replaces its settings, it is not a second row
    again = client.post("/api/v1/book", json={**body, "settings": {**SMALL, "entry": 2.5}},
                        headers=AUTH)  # fmt: skip
    assert again.status_code == 201 and again.json()["id"] == pid
    assert client.get("/api/v1/book").json()[0]["settings"]["entry"] == 2.5
    # persisted: a restarted engine on the same store has the pair, warmed up from stored bars
    client.__exit__(None, None, None)
    restarted = app_factory()
    rows = restarted.get("/api/v1/book").json()
    assert [r["id"] for r in rows] == [pid]
    assert restarted.delete(f"/api/v1/book/{pid}", headers=AUTH).status_code == 204
    assert restarted.delete(f"/api/v1/book/{pid}", headers=AUTH).status_code == 404
    assert restarted.get("/api/v1/book").json() == []


def test_bad_pairs_are_refused_with_the_reason(client: TestClient) -> None:
    bad = [
        ({"a": "AAAUSDT", "b": "AAAUSDT", "timeframe": "1s"}, "two different symbols"),
        ({"a": "AAAUSDT", "b": "BBBUSDT", "timeframe": "5m"}, "not built by this engine"),
        ({"a": "AAAUSDT", "b": "BBBUSDT", "settings": {"entry": 1, "exit": 1}}, "exit"),
        ({"a": "AAAUSDT", "b": "BBBUSDT", "settings": {"bogus": 1}}, "bogus"),
    ]
    for body, why in bad:
        r = client.post("/api/v1/book", json=body, headers=AUTH)
        assert r.status_code == 422, (body, r.text)
        assert why in r.text, (why, r.text)


def test_alert_rules_accept_the_breakdown_metrics(client: TestClient) -> None:
    for metric in ("health", "cusum", "excursion", "beta_drift", "eg_pvalue_rolling"):
        rule = {"name": metric, "condition": {"metric": metric, "target": "AAAUSDT/BBBUSDT",
                "timeframe": "1s", "operator": ">=", "threshold": 2}}  # fmt: skip
        r = client.post("/api/v1/alerts/rules", json=rule, headers=AUTH)
        assert r.status_code == 201, r.text
