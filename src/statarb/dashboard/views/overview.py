"""Overview: what data the product holds and where it comes from, with links to the views."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from statarb.dashboard import data, ui
from statarb.errors import StatarbError
from statarb.masking import mask_url

st.title("statarb")
st.caption("Live statistical-arbitrage analytics for Binance USD-M futures")
cfg = data.settings()
try:
    rows = data.symbols_table(cfg.store_url)
except StatarbError as exc:
    st.error(f"Cannot open the store {mask_url(cfg.store_url)}: {exc}")
    rows = []
if not rows:
    st.info(
        "The store is empty. Stream symbols or upload files on the Data source page, "
        "or start the demo with `statarb up --demo`."
    )
    st.page_link("views/data_source.py", label="Data source", icon=":material/cable:")
    st.stop()

st.subheader("Data")
spans = data.symbol_spans(cfg.store_url)
for kind, syms in ui.data_origins():
    st.markdown(f"**{kind}**")
    table = [
        {
            "symbol": s,
            "from": pd.Timestamp(spans[s][0] * 1000, tz="UTC") if s in spans else None,
            "to": pd.Timestamp(spans[s][1] * 1000, tz="UTC") if s in spans else None,
            "ticks": next(r["ticks"] for r in rows if r["symbol"] == s),
            "1m bars": next(r["bars"].get("1m", 0) for r in rows if r["symbol"] == s),
        }
        for s in syms
    ]
    st.dataframe(pd.DataFrame(table), hide_index=True)

st.subheader("Views")
c = st.columns(3)
c[0].page_link("views/pair.py", label="Pair analysis", icon=":material/balance:")
c[1].page_link("views/correlation.py", label="Correlation & scan", icon=":material/grid_on:")
c[2].page_link("views/backtest.py", label="Backtest", icon=":material/science:")
c[0].page_link("views/market.py", label="Market", icon=":material/candlestick_chart:")
c[1].page_link("views/alerts.py", label="Alerts", icon=":material/notifications:")
c[2].page_link("views/downloads.py", label="Data", icon=":material/download:")
