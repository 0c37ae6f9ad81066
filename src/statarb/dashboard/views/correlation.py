"""Correlation heatmap of the stored symbols; pair-scan ranking with liquidity filters."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from statarb.analytics.liquidity import liquidity_filter
from statarb.dashboard import analysis, client, data, figures, ui

st.title("Correlation & pair scan")
names = ui.require_symbols(2)
picked = ui.symbols_picker(names, "co")
c1, c2, c3 = st.columns(3)
with c1:
    tf = ui.timeframe_picker("co", default="1m")
with c2:
    start = ui.lookback_start(picked or names, "co", default="7 days")
on = c3.radio("Correlate", ["returns", "prices"], horizontal=True, key="co_on")
ui.data_origin_caption(picked)
if len(picked) < 2:
    st.info("Pick at least two symbols.")
    st.stop()
names = picked
url = data.settings().store_url
closes = data.aligned_closes(url, tuple(names), tf, start, None)
if len(closes) < 3:
    spans = data.symbol_spans(url)
    group = ui.overlapping_group(ui.order_symbols(names), spans)
    st.warning(
        f"{len(closes)} {tf} bars where every picked symbol has data: not enough to correlate. "
        + (f"These overlap in time: {', '.join(group)}." if len(group) >= 2 else "")
    )
    st.stop()
corr = analysis.correlation_matrix(closes, on)
st.plotly_chart(
    figures.correlation_heatmap_figure(corr, title=f"Correlation of {on} ({tf})"), key="co_heat"
)
st.caption(f"{len(closes):,} aligned bars of {len(names)} symbols")

st.subheader("Pair scan")
stats = analysis.liquidity(url, tuple(names), tf, start)
st.dataframe(
    pd.DataFrame([{"symbol": s, **v.to_dict()} for s, v in stats.items()]), hide_index=True
)
f1, f2 = st.columns(2)
min_notional = f1.number_input("Min notional in range", 0.0, value=0.0, step=1e5, key="co_mn")
min_trades = int(f2.number_input("Min trades in range", 0, value=0, step=100, key="co_mt"))
symbols = liquidity_filter(stats, min_notional=min_notional, min_trades=min_trades)
if len(symbols) < 2:
    st.info(f"{len(symbols)} symbol(s) pass the liquidity filter; the scan needs two.")
    st.stop()
n_pairs = len(symbols) * (len(symbols) - 1) // 2
if not st.toggle(f"Scan the {n_pairs} pairs", key="co_scan", value=n_pairs <= 28,
                 help="cointegration tests of every pair: seconds on long histories"):  # fmt: skip
    st.stop()
prices = data.aligned_prices(url, tuple(names), tf, start)
with st.spinner("testing pairs"):
    table = analysis.scan_table(prices, stats, symbols=tuple(sorted(symbols)))
chosen = st.dataframe(table, hide_index=True, key="co_table", on_select="rerun",
                      selection_mode="single-row")  # fmt: skip
ui.download_buttons(table, "pair_scan", "co_dl")
rows = chosen.selection.rows if chosen is not None else []
if rows:
    a, b = str(table.iloc[rows[0]]["a"]), str(table.iloc[rows[0]]["b"])
    if st.button(f"Watch {a}/{b} in the book ({tf})", key="co_book", icon=":material/add:"):
        body = {"a": a, "b": b, "timeframe": tf}
        added = ui.engine_call(client.api, "POST", "/api/v1/book", json=body)
        if added is not None:
            st.success(f"{a}/{b} {tf} is in the book (pair {added['id']}): see the Book page")
else:
    st.caption("Select a row to watch that pair live in the book.")
