"""Bars, CSV export, stats and pair endpoints on ticks posted through the API."""

from __future__ import annotations

import csv
import io

import numpy as np
from api_helpers import AUTH, T0, ticks
from fastapi.testclient import TestClient

from statarb.bars import resample
from statarb.model import Tick, TickBatch


def _post(client: TestClient) -> TickBatch:
    rng = np.random.default_rng(3)
    prices = (100 + np.cumsum(rng.normal(0, 0.2, 400))).round(4).tolist()
    rows = ticks("BTCUSDT", prices, step_ms=1500)
    r = client.post("/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH)
    assert r.json()["accepted"] == 400
    return next(iter(TickBatch.from_ticks(
        [Tick("BTCUSDT", x["ts"] * 1000, x["price"], x["size"], x["is_buyer_maker"],
              x["trade_id"]) for x in rows]).values()))  # fmt: skip


def test_bars_match_resample_of_the_ticks(client: TestClient) -> None:
    tb = _post(client)
    full = resample(tb, "1m")
    ref = full.take(slice(0, len(full) - 1))  # the last bar is still open: not final, not served
    got = client.get("/api/v1/bars/BTCUSDT?tf=1m").json()
    assert [b["open_time"] for b in got] == ref.open_time.tolist()
    np.testing.assert_allclose([b["close"] for b in got], ref.close)
    np.testing.assert_allclose([b["high"] for b in got], ref.high)
    np.testing.assert_allclose([b["volume"] for b in got], ref.volume)
    assert [b["trades"] for b in got] == ref.trades.tolist()
    assert got[0]["time"] == "2024-08-08T12:00:00.000Z"
    last2 = client.get("/api/v1/bars/BTCUSDT?tf=1m&limit=2").json()
    assert last2 == got[-2:]
    ranged = client.get(f"/api/v1/bars/BTCUSDT?tf=1m&start={T0 + 60_000}&end={T0 + 180_000}")
    assert [b["open_time"] for b in ranged.json()] == [(T0 + 60_000) * 1000, (T0 + 120_000) * 1000]


def test_bars_csv_and_errors(client: TestClient) -> None:
    _post(client)
    r = client.get("/api/v1/bars/BTCUSDT?tf=5m&format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 2 and {"time", "open", "high", "low", "close", "volume"} <= set(rows[0])
    assert client.get("/api/v1/bars/BTCUSDT?tf=7x").status_code == 422
    assert client.get("/api/v1/bars/BTC-USDT").status_code == 422
    unknown = client.get("/api/v1/bars/NOPEUSDT?tf=1m")
    assert unknown.status_code == 422 and "BTCUSDT" in unknown.json()["detail"]


def test_stats_and_pairs(client: TestClient) -> None:
    _post(client)
    eth = ticks("ETHUSDT", [10.0 + (i % 9) * 0.1 for i in range(400)], step_ms=1500)
    client.post("/api/v1/ticks/batch?wait=true", headers=AUTH, json=eth)
    stats = client.get("/api/v1/stats/BTCUSDT?tf=1m")
    assert stats.status_code == 200, stats.text
    assert stats.json()["symbol"] == "BTCUSDT" and stats.json()["n"] == stats.json()["bars"]
    r = client.get("/api/v1/pairs/BTCUSDT/ETHUSDT?tf=1s")
    assert r.status_code == 200, r.text
    assert r.json()["n"] > 30 and "hedge_ratio" in r.json()
    short = client.get("/api/v1/pairs/BTCUSDT/ETHUSDT?tf=1m")
    assert short.status_code == 422 and "30" in short.text  # too few aligned 1m bars
    assert client.get("/api/v1/pairs/BTCUSDT/BTCUSDT").status_code == 422
    w = client.put("/api/v1/pairs/BTCUSDT/ETHUSDT/watch", headers=AUTH)
    assert w.json() == {"a": "BTCUSDT", "b": "ETHUSDT", "topic": "pair:BTCUSDT:ETHUSDT"}
    assert client.get("/api/v1/pairs").json() == [{"a": "BTCUSDT", "b": "ETHUSDT"}]
    assert client.get("/api/v1/pairs/BTCUSDT/ETHUSDT/live").status_code == 200
    assert client.delete("/api/v1/pairs/BTCUSDT/ETHUSDT/watch", headers=AUTH).status_code == 204
    assert client.get("/api/v1/pairs/BTCUSDT/ETHUSDT/live").status_code == 404


def test_health_and_metrics(client: TestClient) -> None:
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["engine"] is True and h["store"] == "sqlite"
    client.post("/api/v1/ticks?wait=true", json=ticks("BTCUSDT", [1.0])[0], headers=AUTH)
    text = client.get("/metrics").text
    assert 'statarb_engine_events_total{kind="ticks"} 1.0' in text
    assert 'statarb_latency_seconds_count{stage="receipt"} 1.0' in text
    schema = client.get("/openapi.json").json()
    assert "/api/v1/ticks/batch" in schema["paths"] and "/health" in schema["paths"]
