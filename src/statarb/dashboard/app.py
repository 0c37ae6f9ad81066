"""The dashboard's entry script (``streamlit run``): navigation, sidebar status, alert toasts."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from statarb.dashboard import data, ui

# not "pages": a folder of that name next to the entry script switches Streamlit to its
# directory-based navigation, which never runs this script
PAGES = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="statarb", page_icon=":material/monitoring:", layout="wide")
nav = st.navigation(
    [
        st.Page(PAGES / "data_source.py", title="Data source", icon=":material/cable:"),
        st.Page(
            PAGES / "market.py", title="Market", icon=":material/candlestick_chart:", default=True
        ),
        st.Page(PAGES / "pair.py", title="Pair analysis", icon=":material/balance:"),
        st.Page(PAGES / "correlation.py", title="Correlation & scan", icon=":material/grid_on:"),
        st.Page(PAGES / "backtest.py", title="Backtest", icon=":material/science:"),
        st.Page(PAGES / "alerts.py", title="Alerts", icon=":material/notifications:"),
        st.Page(PAGES / "downloads.py", title="Data", icon=":material/download:"),
    ]
)
with st.sidebar:
    st.caption(f"store `{data.settings().store_url}` · engine `{data.settings().api_url}`")
    ui.feed_status_panel()
    ui.alert_toasts()
nav.run()
