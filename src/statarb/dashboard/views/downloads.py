"""Data: stored symbols, counts and time spans; CSV/Parquet downloads of ticks, bars, analytics."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from statarb.dashboard import analysis, data, tables, ui
from statarb.model import Timeframe

st.title("Data")
names = ui.require_symbols(1)
url = data.settings().store_url
table = pd.DataFrame(data.symbols_table(url))
st.dataframe(table, hide_index=True)
st.metric("Ticks stored", f"{int(table['ticks'].sum()):,}")

st.subheader("Download")
c1, c2, c3 = st.columns(3)
kind = c1.selectbox(
    "Table",
    ["bars", "ticks", "summary statistics", "pair analytics", "backtest trades"],
    key="dl_kind",
)
symbol = c2.selectbox("Symbol (Y leg for pairs)", ui.order_symbols(names), key="dl_symbol")
with c3:
    start = ui.lookback_start([symbol], "dl", default="1 hour")
frame: pd.DataFrame | None = None
if kind == "bars":
    tf = ui.timeframe_picker("dl", default="1m")
    frame = data.bars(url, symbol, tf, start, None)
elif kind == "ticks":
    frame = data.ticks(url, symbol, start, None)
elif kind == "summary statistics":
    tf = ui.timeframe_picker("dl", default="1m")
    frame = tables.price_stats_table({s: data.bars(url, s, tf, start, None) for s in names})
elif len(names) < 2:
    st.info(f"The {kind} table needs two symbols; the store holds only {symbol}.")
else:
    others = ui.order_symbols([n for n in names if n != symbol])
    spans = data.symbol_spans(url)
    best = max(others, key=lambda o: ui.overlap_us(spans, symbol, o))
    other = st.selectbox("X leg", others, index=others.index(best), key="dl_other")
    tf = ui.timeframe_picker("dl", default="1m")
    closes = data.aligned_closes(url, (symbol, other), tf, start, None)
    if len(closes) < 62:
        st.info(f"{len(closes)} aligned {tf} bars of {symbol} and {other}: the {kind} table needs "
                "at least 62 (a 60-bar window).")  # fmt: skip
        st.stop()
    try:
        if kind == "pair analytics":
            view = analysis.pair_view(
                closes,
                symbol,
                other,
                method="ols",
                window=None,
                z_window=60,
                bar_seconds=Timeframe.parse(tf).seconds,
            )
            frame = pd.DataFrame(
                {
                    "time": view["index"],
                    symbol: closes[symbol].to_numpy(),
                    other: closes[other].to_numpy(),
                    "spread": view["spread"],
                    "zscore": view["zscore"],
                }
            )
        else:
            params = {
                "capital": 100_000.0,
                "entry": 2.0,
                "exit": 0.5,
                "stop": 4.0,
                "window": 60,
                "method": "rolling-ols",
                "fee_bps": 4.0,
                "slippage_bps": 1.0,
            }
            frame = analysis.backtest(closes, symbol, other, params, tf)["trades"]
    except Exception as exc:
        st.error(f"{kind} failed: {exc}")
if frame is not None:
    st.caption(f"{len(frame):,} rows")
    st.dataframe(frame.head(200), hide_index=True)
    if st.toggle("Prepare files", key="dl_prepare", help="build the CSV and Parquet files"):
        ui.download_buttons(frame, f"{kind.replace(' ', '_')}_{symbol}", "dl_files")
