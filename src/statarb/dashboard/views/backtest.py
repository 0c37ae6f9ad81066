"""Backtest: parameters, metric cards, equity and drawdown, trades, parameter-sweep heatmap."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from statarb.backtest import HEDGE_MODES
from statarb.backtest.sweep import SWEEP_METRICS
from statarb.dashboard import analysis, data, figures, ui

st.title("Backtest")
names = ui.require_symbols(2)
c1, c2, c3, c4 = st.columns(4)
a, b = ui.pair_pickers(names, "bt", (c1, c2))
with c3:
    tf = ui.timeframe_picker("bt", default="1m")
with c4:
    start = ui.lookback_start([a, b], "bt", default="all")
with st.form("bt_form"):
    p = st.columns(5)
    params: dict[str, Any] = {
        "capital": p[0].number_input("Capital", 100.0, 1e10, 100_000.0, 1000.0),
        "entry": p[1].number_input("Entry |z|", 0.1, 10.0, 2.0, 0.1),
        "exit": p[2].number_input("Exit |z|", 0.0, 9.9, 0.5, 0.1),
        "stop": p[3].number_input("Stop |z|", 0.2, 50.0, 4.0, 0.1),
        "window": int(p[4].number_input("Window (bars)", 5, 100_000, 60, 5)),
    }
    q = st.columns(3)
    params["method"] = q[0].selectbox(
        "Hedge ratio",
        HEDGE_MODES,
        index=HEDGE_MODES.index("rolling-ols"),
        key="bt_method",
        help="estimated from data before each bar; 'static' fits the whole sample (in-sample)",
    )
    params["fee_bps"] = q[1].number_input("Fee (bps per side)", 0.0, 100.0, 4.0, 0.5)
    params["slippage_bps"] = q[2].number_input("Slippage (bps)", 0.0, 100.0, 1.0, 0.5)
    st.form_submit_button("Run backtest")
if a == b:
    st.warning("Pick two different symbols.")
    st.stop()
if not params["exit"] < params["entry"] < params["stop"]:
    st.error("Need exit < entry < stop.")
    st.stop()
closes = data.aligned_closes(data.settings().store_url, (a, b), tf, start, None)
if len(closes) <= params["window"] + 2:
    st.warning(f"{len(closes)} aligned {tf} bars: fewer than the window needs.")
    st.stop()
try:
    res = analysis.backtest(closes, a, b, params, tf)
except Exception as exc:
    st.error(f"Backtest failed: {exc}")
    st.stop()
if res["ruined"]:
    st.error(next(line for line in res["summary"].splitlines() if line.startswith("RUINED")))
cards = st.columns(6)
for i, (label, text) in enumerate(analysis.metric_cards(res["metrics"])):
    cards[i % len(cards)].metric(label, text)
st.caption(f"Annualised for {tf} bars (365-day year); returns and rates in percent.")
st.plotly_chart(figures.equity_figure(closes.index, res["equity"], res["drawdown"]), key="bt_eq")
st.subheader("Trades")
st.dataframe(res["trades"], hide_index=True)
ui.download_buttons(res["trades"], f"trades_{a}_{b}", "bt_trades")

st.subheader("Parameter sweep")
s1, s2 = st.columns(2)
entries = s1.multiselect(
    "Entry values",
    list(np.round(np.arange(1.0, 3.01, 0.25), 2)),
    default=[1.5, 2.0, 2.5],
    key="bt_se",
)
windows = s2.multiselect(
    "Window values", [20, 30, 60, 120, 240, 480], default=[30, 60, 120], key="bt_sw"
)
metric = st.selectbox("Colour by", SWEEP_METRICS, index=SWEEP_METRICS.index("sharpe"), key="bt_sm")
if st.button("Run sweep", key="bt_sweep", disabled=not entries or not windows):
    grid: dict[str, list[Any]] = {
        "entry": [float(e) for e in entries],
        "window": [int(w) for w in windows],
    }
    try:
        table = analysis.backtest_sweep(closes, a, b, params, grid, tf)
    except Exception as exc:
        st.error(f"Sweep failed: {exc}")
    else:
        st.plotly_chart(
            figures.sweep_heatmap_figure(table, x="window", y="entry", value=metric), key="bt_heat"
        )
        st.dataframe(analysis.sweep_display(pd.DataFrame(table)), hide_index=True)
