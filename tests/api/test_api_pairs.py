"""The pair endpoint: the legs' own symbols, and the series as JSON and CSV, bounded."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from api_helpers import AUTH, ticks
from fastapi.testclient import TestClient

from statarb.analytics.pair import analyze_pair
from statarb.history import load_aligned
from statarb.store import open_store


@pytest.fixture
def pair_client(client: TestClient) -> TestClient:
    rng = np.random.default_rng(11)
    x = 50 + np.cumsum(rng.normal(0, 0.1, 300))
    y = 2.0 * x + rng.normal(0, 0.05, 300)
    for sym, p in (("BTCUSDT", y), ("ETHUSDT", x)):
        rows = ticks(sym, p.round(5).tolist(), step_ms=1000)
        client.post("/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH).raise_for_status()
    return client


def test_pair_names_its_legs_and_returns_the_series(pair_client: TestClient,
                                                    sqlite_url: str) -> None:  # fmt: skip
    r = pair_client.get("/api/v1/pairs/btcusdt/ETHUSDT?tf=1s&series=true&z_window=30")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["a"], body["b"]) == ("BTCUSDT", "ETHUSDT")
    s = body["series"]
    n = body["n"]
    assert (
        body["series_points"] == n == len(s["ts"]) == len(s["spread"])
        and not body["series_truncated"]
    )
    # reference: the same analysis on the same stored bars, in-process
    store = open_store(sqlite_url, read_only=True)
    try:
        frame = load_aligned(store, ["BTCUSDT", "ETHUSDT"], "1s", None, None).dropna()
    finally:
        store.close()
    ref = analyze_pair(frame["BTCUSDT"], frame["ETHUSDT"], bar_seconds=1, z_window=30)
    np.testing.assert_allclose(s["spread"], ref.series["spread"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(s["hedge_ratio"], ref.series["beta"].to_numpy(), rtol=1e-12)
    z = np.array([np.nan if v is None else v for v in s["zscore"]])
    np.testing.assert_allclose(z, ref.series["zscore"].to_numpy(), rtol=1e-12)
    assert s["ts"][0] == frame.index[0].value // 1000 and s["time"][0].endswith("Z")
    assert body["last_zscore"] == pytest.approx(z[-1])


def test_pair_series_is_bounded_and_served_as_csv(pair_client: TestClient) -> None:
    r = pair_client.get("/api/v1/pairs/BTCUSDT/ETHUSDT?tf=1s&series=true&max_points=50")
    body = r.json()
    assert body["series_truncated"] and body["series_points"] == 50 == len(body["series"]["ts"])
    assert client_limit_refused(pair_client)
    c = pair_client.get("/api/v1/pairs/BTCUSDT/ETHUSDT?tf=1s&format=csv&max_points=40")
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(c.text)))
    assert len(rows) == 40
    assert list(rows[0]) == ["time", "ts", "BTCUSDT", "ETHUSDT", "hedge_ratio", "intercept",
                             "spread", "zscore"]  # fmt: skip
    last = body["series"]
    assert float(rows[-1]["spread"]) == pytest.approx(last["spread"][-1], rel=1e-12)
    assert int(rows[-1]["ts"]) == last["ts"][-1]


def client_limit_refused(client: TestClient) -> bool:
    r = client.get("/api/v1/pairs/BTCUSDT/ETHUSDT?series=true&max_points=100001")
    return r.status_code == 422 and r.json()["errors"][0]["field"] == "max_points"
