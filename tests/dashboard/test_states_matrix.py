"""Every view x every store state under Streamlit's AppTest: no exception element anywhere.

The states are the ones a newcomer meets: an empty store, one bar, one symbol (ticks only),
symbols holding bars only (imported or backfilled klines), symbols whose times do not overlap,
and an engine whose feed cannot connect. Each store is tiny and built once per module; the app
runs through its own navigation (so the sidebar panels run too).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from _ports import free_port
from statarb.dashboard.app import VIEWS
from statarb.dashboard.launch import APP

NOBODY = "http://127.0.0.1:9"  # nothing listens there
T0 = 1_767_225_600_000_000  # 2026-01-01 00:00 UTC, epoch µs
MIN = 60_000_000


def _bars(symbol: str, n: int, start: int, seed: int) -> object:
    from statarb.model import BarBatch

    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    open_ = np.concatenate([close[:1], close[:-1]])
    high, low = np.maximum(open_, close) * 1.0005, np.minimum(open_, close) * 0.9995
    vol = rng.uniform(1, 10, n)
    return BarBatch(symbol, "1m", start + np.arange(n) * MIN, open_, high, low, close, vol,
                    vol * close, rng.integers(1, 50, n), vol / 2)  # fmt: skip


def _ticks(symbol: str, n: int, start: int, seed: int) -> object:
    from statarb.model import TickBatch

    rng = np.random.default_rng(seed)
    ts = start + np.sort(rng.integers(0, 300_000_000, n))  # 5 minutes
    price = 50.0 * np.exp(np.cumsum(rng.normal(0, 2e-4, n)))
    return TickBatch(symbol, ts, price, rng.uniform(0.01, 1, n), trade_id=np.arange(1, n + 1))


def _fill(url: str, state: str) -> None:
    from statarb.store import open_store

    store = open_store(url)
    try:
        if state == "one bar":
            store.write_bars(_bars("AAAUSDT", 1, T0, 1))  # type: ignore[arg-type]
        elif state == "one symbol":
            store.write_ticks(_ticks("AAAUSDT", 400, T0, 2))  # type: ignore[arg-type]
        elif state in ("bars only", "feed cannot connect"):
            store.write_bars(_bars("AAAUSDT", 240, T0, 3))  # type: ignore[arg-type]
            store.write_bars(_bars("BBBUSDT", 240, T0, 4))  # type: ignore[arg-type]
        elif state == "no overlap":
            store.write_bars(_bars("AAAUSDT", 120, T0, 5))  # type: ignore[arg-type]
            store.write_bars(_bars("BBBUSDT", 120, T0 + 30 * 86_400_000_000, 6))  # type: ignore[arg-type]
            store.write_ticks(_ticks("CCCUSDT", 200, T0 + 60 * 86_400_000_000, 7))  # type: ignore[arg-type]
    finally:
        store.close()


STATES = ("empty", "one bar", "one symbol", "bars only", "no overlap", "feed cannot connect")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One small SQLite store per state."""
    folder = tmp_path_factory.mktemp("states")
    out = {}
    for i, state in enumerate(STATES):
        url = f"sqlite:///{folder / f'state{i}.db'}"
        _fill(url, state)
        out[state] = url
    return out


@pytest.fixture(scope="module")
def dead_feed_engine(
    stores: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real engine whose Binance feed points at a port nothing listens on."""
    port, dead = free_port(), free_port()
    api = f"http://127.0.0.1:{port}"
    env = {**os.environ, "STATARB_API_TOKEN": "matrix-token",
           "STATARB_STORE_URL": stores["feed cannot connect"],
           "STATARB_BINANCE_WS_URL": f"ws://127.0.0.1:{dead}",
           "STATARB_BINANCE_REST_URL": f"http://127.0.0.1:{dead}"}  # fmt: skip
    env.pop("STATARB_CONFIG", None)
    log = tmp_path_factory.mktemp("engine") / "engine.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "statarb.cli.main", "serve", "--port", str(port),
             "--symbols", "AAAUSDT"],
            env=env, stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        end = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                feeds = httpx.get(f"{api}/api/v1/feeds").json()["feeds"]
                if feeds:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < end, "the engine did not start its feed within 60 s"
            time.sleep(0.2)
        yield api
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture
def state_env(
    request: pytest.FixtureRequest, stores: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    state = request.param
    api = NOBODY
    if state == "feed cannot connect":
        api = request.getfixturevalue("dead_feed_engine")
    monkeypatch.setenv("STATARB_STORE_URL", stores[state])
    monkeypatch.setenv("STATARB_API_URL", api)
    monkeypatch.delenv("STATARB_CONFIG", raising=False)
    monkeypatch.delenv("STATARB_API_TOKEN", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield state
    st.cache_resource.clear()
    st.cache_data.clear()


def _problems(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.exception]


@pytest.mark.parametrize("state_env", STATES, indirect=True)
def test_every_view_renders_in_every_state(state_env: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    assert not _problems(at), (state_env, "overview", _problems(at))
    for file, title, _icon, _path in VIEWS:
        at.switch_page(f"views/{file}").run()
        assert not _problems(at), (state_env, title, _problems(at))
        assert at.title and at.title[0].value, (state_env, title, "no title: the page stopped")


def test_the_feed_that_cannot_connect_is_shown_as_such(
    stores: dict[str, str], dead_feed_engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATARB_STORE_URL", stores["feed cannot connect"])
    monkeypatch.setenv("STATARB_API_URL", dead_feed_engine)
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.switch_page("views/data_source.py").run()
    captions = "\n".join(str(c.value) for c in at.caption)
    assert "DISCONNECTED: AAAUSDT" in captions
    texts = "\n".join(str(w.value) for w in at.warning)
    assert "not connected" in texts


def test_lookback_cuts_bar_only_symbols(
    stores: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATARB_STORE_URL", stores["bars only"])
    monkeypatch.setenv("STATARB_API_URL", NOBODY)
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(Path(APP).parent / "views" / "market.py"), default_timeout=90)
    at.run()
    at.selectbox(key="mk_lb").set_value("1 hour").run()
    assert not at.exception
    assert "60 bars" in "\n".join(str(c.value) for c in at.caption)
    at.selectbox(key="mk_lb").set_value("all").run()
    assert "240 bars" in "\n".join(str(c.value) for c in at.caption)


def test_no_overlap_pickers_and_message(
    stores: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATARB_STORE_URL", stores["no overlap"])
    monkeypatch.setenv("STATARB_API_URL", NOBODY)
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(Path(APP).parent / "views" / "pair.py"), default_timeout=90).run()
    assert not at.exception
    assert "have no data at the same time" in "\n".join(str(w.value) for w in at.warning)
    co = AppTest.from_file(str(Path(APP).parent / "views" / "correlation.py"), default_timeout=90)
    co.run()
    assert not co.exception
    assert "Pick at least two symbols" in "\n".join(str(i.value) for i in co.info)


@pytest.mark.parametrize("state", ["one bar", "bars only"])
def test_data_page_builds_every_table(
    state: str, stores: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATARB_STORE_URL", stores[state])
    monkeypatch.setenv("STATARB_API_URL", NOBODY)
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(Path(APP).parent / "views" / "downloads.py"), default_timeout=90)
    at.run()
    at.selectbox(key="dl_lb").set_value("all").run()
    for kind in at.selectbox(key="dl_kind").options:
        at.selectbox(key="dl_kind").set_value(kind).run()
        assert not at.exception, (state, kind, [e.value for e in at.exception])
        errors = [str(e.value) for e in at.error]
        if state == "bars only":
            assert not errors, (kind, errors)
            assert any("rows" in str(c.value) for c in at.caption), kind
    if state == "bars only":  # the backtest trades table is the backtester's
        assert at.dataframe[-1].value.shape[0] >= 0
