"""Every dashboard page run by Streamlit's AppTest on a real store, with the engine absent."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from statarb.dashboard.launch import APP

PAGES = APP.parent / "views"
SYMBOLS = ("LINKUSDT", "DOTUSDT", "AVAXUSDT")


@pytest.fixture(scope="module")
def store_url(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store holding a month of real 1m bars of three symbols."""
    from statarb.ingest.files import import_files
    from statarb.store import open_store

    url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'statarb.db'}"
    store = open_store(url)
    folder = shared_data / "binance-usdm-klines-1m"
    import_files([folder / f"{s}-1m-2026-02.zip" for s in SYMBOLS], store)
    store.close()
    return url


def _run(page: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def _bars(url: str, symbol: str) -> pd.DataFrame:
    from statarb.export import bars_frame
    from statarb.store import open_store

    store = open_store(url, read_only=True)
    try:
        return bars_frame(store.read_bars(symbol, "1m"))
    finally:
        store.close()


def _decode(value: object) -> object:
    """Plotly sends numpy arrays as ``{"dtype", "bdata"}`` (base64); give them back as arrays."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            arr = arr.reshape([int(n) for n in str(value["shape"]).split(",") if n.strip()])
        return arr
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _spec(at: AppTest, i: int) -> dict:
    return _decode(json.loads(at.get("plotly_chart")[i].proto.spec))  # type: ignore[return-value]


def _chart_with(at: AppTest, trace: str) -> dict:
    """The first chart holding a trace named ``trace``."""
    for i in range(len(at.get("plotly_chart"))):
        spec = _spec(at, i)
        if any(t.get("name") == trace for t in spec["data"]):
            return spec
    raise AssertionError(f"no chart has a trace named {trace!r}")


def test_app_navigates_and_reports_the_engine_missing(env: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["statarb"]  # the overview
    assert "engine not reachable at http://127.0.0.1:9" in _texts(at, "caption")
    at.switch_page("views/alerts.py").run()
    assert not at.exception and at.title[0].value == "Alerts"


def test_market_candles_are_the_stored_bars(env: str) -> None:
    at = _run("market.py")
    assert sorted(at.selectbox(key="mk_symbol").options) == sorted(SYMBOLS)
    at.selectbox(key="mk_lb").set_value("all").run()
    candle = _spec(at, 0)["data"][0]
    bars = _bars(env, "AVAXUSDT")
    assert len(candle["close"]) <= 5000
    assert max(candle["high"]) == bars["high"].max() and min(candle["low"]) == bars["low"].min()
    assert candle["close"][-1] == bars["close"].iloc[-1]
    assert "40,320 bars" in _texts(at, "caption")
    at.selectbox(key="mk_tf").set_value("1h").run()
    candle = _spec(at, 0)["data"][0]
    hourly = bars.groupby(bars["time"].dt.floor("1h"))
    np.testing.assert_allclose(candle["high"], hourly["high"].max().to_numpy())
    np.testing.assert_allclose(candle["close"], hourly["close"].last().to_numpy())


def test_market_custom_timeframe_is_validated(env: str) -> None:
    at = _run("market.py")
    at.selectbox(key="mk_tf").set_value("custom").run()
    at.text_input(key="mk_tf_custom").set_value("7x").run()
    assert "Bad timeframe '7x'" in _texts(at, "error")


def test_pair_page(env: str) -> None:
    at = _run("pair.py")
    assert (at.selectbox(key="pa_a").value, at.selectbox(key="pa_b").value) == (
        "AVAXUSDT",
        "LINKUSDT",
    )  # the pair with the longest common history, the demo's order breaking the tie
    at.selectbox(key="pa_b").set_value("DOTUSDT").run()
    at.selectbox(key="pa_tf").set_value("15m").run()  # 2,688 bars
    at.selectbox(key="pa_lb").set_value("all").run()
    assert not at.exception
    from statarb.analytics.pair import analyze_pair
    from statarb.analytics.regression import hedge_ratio
    from statarb.analytics.spread import spread, zscore
    from statarb.history import load_aligned
    from statarb.store import open_store

    store = open_store(env, read_only=True)
    closes = load_aligned(store, ["AVAXUSDT", "DOTUSDT"], "15m").dropna()
    store.close()
    y, x = closes["AVAXUSDT"].to_numpy(), closes["DOTUSDT"].to_numpy()
    ref = analyze_pair(y, x, method="ols", window=None, bar_seconds=900.0, z_window=60).to_dict()
    fit = hedge_ratio(y, x, method="ols")
    z_ref = np.asarray(zscore(spread(y, x, fit.beta, fit.intercept), window=60))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Hedge ratio"] == f"{fit.beta:.5g}"
    assert metrics["Last z-score"] == f"{z_ref[-1]:.3f}"
    assert metrics["ADF p-value"] == f"{ref['adf_pvalue']:.4f}"
    assert metrics["EG p-value"] == f"{ref['eg_pvalue']:.4f}"
    assert metrics["Bars"] == f"{len(closes):,}"
    z = {t["name"]: t for t in _chart_with(at, "z-score")["data"]}
    assert list(z["+entry"]["y"]) == [2.0, 2.0] and list(z["-exit"]["y"]) == [-0.5, -0.5]
    shown = np.asarray(z["z-score"]["y"], dtype=float)  # thinned: extremes and ends kept exactly
    assert len(shown) <= 5000 and shown[-1] == pytest.approx(z_ref[-1])
    assert np.nanmax(shown) == np.nanmax(z_ref) and np.nanmin(shown) == np.nanmin(z_ref)
    at.selectbox(key="pa_method").set_value("kalman").run()
    assert not at.exception and not at.error


def test_pair_page_needs_two_different_symbols(env: str) -> None:
    at = _run("pair.py")
    at.selectbox(key="pa_b").set_value("AVAXUSDT").run()
    assert "Pick two different symbols" in _texts(at, "warning")


def test_correlation_heatmap_equals_pandas_corr(env: str) -> None:
    at = _run("correlation.py")
    at.selectbox(key="co_lb").set_value("all").run()
    heat = _spec(at, 0)["data"][0]
    order = ["AVAXUSDT", "LINKUSDT", "DOTUSDT"]  # the picker's order: the demo's symbols first
    assert at.multiselect(key="co_syms").value == order
    closes = pd.DataFrame({s: _bars(env, s).set_index("time")["close"] for s in order})
    ref = closes.pct_change().iloc[1:].corr()
    assert list(heat["x"]) == order
    np.testing.assert_allclose(np.array(heat["z"]), ref.to_numpy(), rtol=1e-12)
    liq = at.dataframe[0].value
    assert list(liq["bars"]) == [40_320] * 3
    at.selectbox(key="co_tf").set_value("1h").run()  # 672 bars: a quick scan
    at.toggle(key="co_scan").set_value(True).run()
    assert not at.exception
    scan = at.dataframe[1].value
    assert len(scan) == 3
    at.number_input(key="co_mt").set_value(10**12).run()
    assert "0 symbol(s) pass the liquidity filter" in _texts(at, "info")


def test_backtest_page_shows_the_backtester_numbers(env: str) -> None:
    from statarb.backtest import BacktestConfig, run_backtest, sweep
    from statarb.history import load_aligned
    from statarb.store import open_store

    at = _run("backtest.py")
    at.selectbox(key="bt_b").set_value("DOTUSDT").run()
    at.selectbox(key="bt_tf").set_value("1h").run()
    assert not at.exception and not at.error, _texts(at, "error")
    store = open_store(env, read_only=True)
    closes = load_aligned(store, ["AVAXUSDT", "DOTUSDT"], "1h").dropna()
    store.close()
    y, x = closes["AVAXUSDT"].to_numpy(), closes["DOTUSDT"].to_numpy()
    cfg = BacktestConfig.for_timeframe("1h", capital=100_000.0, entry=2.0, exit=0.5, stop=4.0,
                                       window=60, method="rolling-ols", fee_bps=4.0,
                                       slippage_bps=1.0)  # fmt: skip
    ref = run_backtest(y, x, config=cfg, index=closes.index)
    cards = {m.label: m.value for m in at.metric}
    assert cards["Trades"] == str(ref.metrics["trades"])
    assert cards["Sharpe"] == f"{ref.metrics['sharpe']:.2f}"
    eq = _chart_with(at, "equity")["data"][0]
    assert float(eq["y"][-1]) == pytest.approx(ref.equity[-1])
    assert len(at.dataframe[0].value) == len(ref.trades_frame())
    at.multiselect(key="bt_se").set_value([1.5, 2.0])
    at.multiselect(key="bt_sw").set_value([30, 60])
    at.button(key="bt_sweep").click().run()
    assert not at.exception and not at.error, _texts(at, "error")
    heat = _heatmap(at)
    table = sweep(y, x, config=cfg, grid={"entry": [1.5, 2.0], "window": [30, 60]})
    grid = table.pivot_table(index="entry", columns="window", values="sharpe")
    np.testing.assert_allclose(np.asarray(heat["z"], dtype=float), grid.to_numpy())


def _heatmap(at: AppTest) -> dict:
    for i in range(len(at.get("plotly_chart"))):
        data = _spec(at, i)["data"]
        if data and data[0].get("type") == "heatmap":
            return data[0]
    raise AssertionError("no heatmap")


def test_alerts_page_without_engine(env: str) -> None:
    at = _run("alerts.py")
    assert "engine is not reachable at http://127.0.0.1:9" in _texts(at, "warning")
    assert "Rules live in the engine" in _texts(at, "info")


def test_data_source_validates_symbols_and_lists_the_store(env: str) -> None:
    at = _run("data_source.py")
    assert "engine is not reachable" in _texts(at, "warning")
    at.text_input(key="ds_symbols").set_value("btcusdt, eth-usdt").run()
    assert "Not valid symbols (A-Z and 0-9, e.g. BTCUSDT): eth-usdt" in _texts(at, "error")
    assert at.button(key="ds_start").disabled
    at.text_input(key="ds_symbols").set_value("btcusdt ethusdt").run()
    assert not at.button(key="ds_start").disabled and not at.error
    at.button(key="ds_start").click().run()
    assert "engine is not reachable" in _texts(at, "warning")
    stored = at.dataframe[0].value
    assert sorted(stored["symbol"]) == sorted(SYMBOLS)


def test_data_page_counts_and_downloads(env: str) -> None:
    at = _run("downloads.py")
    assert {m.label: m.value for m in at.metric}["Ticks stored"] == "0"
    at.selectbox(key="dl_lb").set_value("all").run()
    assert "40,320 rows" in _texts(at, "caption")
    at.toggle(key="dl_prepare").set_value(True).run()
    assert not at.exception
    assert len(at.get("download_button")) == 2


def test_store_missing_is_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATARB_STORE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("STATARB_API_URL", "http://127.0.0.1:9")
    st.cache_resource.clear()
    st.cache_data.clear()
    at = _run("market.py")
    assert "Cannot open the store" in _texts(at, "error")
    st.cache_resource.clear()
