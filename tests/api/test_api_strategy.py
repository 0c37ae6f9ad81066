"""Strategy endpoints: OU bands, guarded sweep and the book, on bars in the store."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy.signal import lfilter

from statarb.model import BarBatch
from statarb.store import open_store

T0_US = 1_723_118_400_000_000
N = 1500


@pytest.fixture
def client(sqlite_url: str, app_factory: Callable[..., TestClient]) -> TestClient:
    rng = np.random.default_rng(8)
    common = 100 + np.cumsum(rng.normal(0, 0.3, N))
    st = open_store(sqlite_url)
    for i, sym in enumerate(("AAAUSDT", "BBBUSDT", "CCCUSDT")):
        close = common * (1 + 0.1 * i) + lfilter([1.0], [1.0, -0.9], rng.normal(0, 0.3, N)) + 50
        t = T0_US + np.arange(N, dtype=np.int64) * 60_000_000
        one = np.ones(N)
        st.write_bars(BarBatch(sym, "1m", t, close, close, close, close, one, close,
                               np.ones(N, dtype=np.int64), one))  # fmt: skip
    st.close()
    return app_factory()


def test_ou_bands(client: TestClient) -> None:
    r = client.get("/api/v1/strategy/ou/AAAUSDT/BBBUSDT?tf=1m&time_stop=2")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["bars"] == N
    assert body["fit"]["half_life"] > 0
    assert body["bands"]["lower"] < body["fit"]["mu"] < body["bands"]["upper"]
    assert body["sharpe_bands"]["objective"] == "sharpe"
    assert body["time_stop_bars"] >= 1
    assert client.get("/api/v1/strategy/ou/AAAUSDT/AAAUSDT").status_code == 422
    assert client.get("/api/v1/strategy/ou/AAAUSDT/ZZZUSDT").status_code == 422


def test_guarded_sweep(client: TestClient) -> None:
    r = client.get("/api/v1/strategy/sweep/AAAUSDT/BBBUSDT?entries=1.5,2&windows=30,60")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["overfit"]["n_configs"] == 4 and len(body["rows"]) == 4
    assert all("dsr" in row for row in body["rows"])
    assert body["best"]["dsr"] == pytest.approx(body["overfit"]["dsr"]["dsr"])
    bad = client.get("/api/v1/strategy/sweep/AAAUSDT/BBBUSDT?entries=a,b")
    assert bad.status_code == 422


def test_book(client: TestClient) -> None:
    r = client.get("/api/v1/strategy/book?pairs=AAAUSDT/BBBUSDT,CCCUSDT/BBBUSDT&max_open=1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pairs"] == ["AAAUSDT/BBBUSDT", "CCCUSDT/BBBUSDT"]
    assert body["metrics"]["max_open_pairs"] <= 1
    assert len(body["correlation"]["matrix"]) == 2
    assert body["funding"] == {"charged": False}
    assert client.get("/api/v1/strategy/book?pairs=AAAUSDT").status_code == 422
    assert client.get("/api/v1/strategy/book?pairs=AAAUSDT/BBBUSDT&exit=5").status_code == 422
