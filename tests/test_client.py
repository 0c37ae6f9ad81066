"""The notebook client against the real app: pandas frames with UTC indexes, errors as APIError."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent / "api"))
from api_helpers import AUTH, T0, TOKEN, make_settings, ticks

from statarb.api import create_app
from statarb.client import APIError, Client


@pytest.fixture
def client(sqlite_url: str) -> Iterator[tuple[Client, TestClient]]:
    with TestClient(create_app(make_settings(sqlite_url))) as http:
        rng = np.random.default_rng(5)
        x = 50 + np.cumsum(rng.normal(0, 0.1, 400))
        y = 2 * x + rng.normal(0, 0.05, 400)
        for sym, p in (("BTCUSDT", y), ("ETHUSDT", x)):
            rows = ticks(sym, p.round(5).tolist(), step_ms=1000)
            http.post("/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH).raise_for_status()
        yield Client(token=TOKEN, session=http), http


def test_bars_and_ticks_match_the_json_endpoints(client: tuple[Client, TestClient]) -> None:
    c, http = client
    bars = c.bars("BTCUSDT", "1s", start=pd.Timestamp(T0 * 1000, unit="us", tz="UTC"))
    ref = http.get("/api/v1/bars/BTCUSDT?tf=1s").json()
    assert str(bars.index.tz) == "UTC" and len(bars) == len(ref)
    np.testing.assert_array_equal(bars["close"].to_numpy(), [r["close"] for r in ref])
    assert bars.index[0] == pd.Timestamp(ref[0]["time"])
    both = c.bars(["BTCUSDT", "ETHUSDT"], "1s")
    assert both.columns.nlevels == 2 and both[("ETHUSDT", "close")].notna().sum() == len(ref)
    tk = c.ticks("ETHUSDT", start="2024-08-08", limit=50)
    assert len(tk) == 50 and str(tk.index.tz) == "UTC"
    assert tk.index[0] == pd.Timestamp(T0, unit="ms", tz="UTC") and tk["trade_id"].iloc[0] == 1
    assert tk["is_buyer_maker"].iloc[0] == True  # noqa: E712


def test_pair_scan_backtest_rules(client: tuple[Client, TestClient]) -> None:
    c, http = client
    rep = c.pair("BTCUSDT", "ETHUSDT", "1s", z_window=30)
    assert (rep.metrics["a"], rep.metrics["b"]) == ("BTCUSDT", "ETHUSDT")
    assert str(rep.series.index.tz) == "UTC" and len(rep.series) == rep.metrics["n"]
    ref = http.get("/api/v1/pairs/BTCUSDT/ETHUSDT?tf=1s&z_window=30&series=true").json()
    np.testing.assert_allclose(rep.series["spread"], ref["series"]["spread"], rtol=0)
    table = c.scan(["BTCUSDT", "ETHUSDT"], "1s", min_obs=50)
    assert len(table) == 1
    result = c.backtest("BTCUSDT", "ETHUSDT", "1s")
    assert len(result.equity) == len(c.bars(["BTCUSDT", "ETHUSDT"], "1s").dropna())
    assert c.rules().empty
    http.post("/api/v1/alerts/rules", headers=AUTH, json={"name": "wide", "condition": {
        "metric": "price", "target": "BTCUSDT", "timeframe": "tick", "operator": ">",
        "threshold": 1e9}}).raise_for_status()  # fmt: skip
    assert c.rules()["name"].tolist() == ["wide"]
    assert c.rules()["severity"].tolist() == ["warning"]


def test_errors_are_api_errors_naming_the_field(client: tuple[Client, TestClient]) -> None:
    c, _ = client
    with pytest.raises(APIError, match="start") as err:
        c.bars("BTCUSDT", start="1e30")
    assert err.value.status == 422 and err.value.problem["errors"][0]["field"] == "start"
    with pytest.raises(APIError) as err:
        c.pair("BTCUSDT", "NOPEUSDT")
    assert err.value.status == 422
