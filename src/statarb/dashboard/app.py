"""The dashboard's entry script (``streamlit run``): navigation, sidebar status, alert toasts."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from statarb.dashboard import data, ui

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="statarb", page_icon="📈", layout="wide")
nav = st.navigation(
    [
        st.Page(PAGES / "data_source.py", title="Data source", icon="🔌"),
        st.Page(PAGES / "market.py", title="Market", icon="🕯️", default=True),
        st.Page(PAGES / "pair.py", title="Pair analysis", icon="⚖️"),
        st.Page(PAGES / "correlation.py", title="Correlation & scan", icon="🧮"),
        st.Page(PAGES / "backtest.py", title="Backtest", icon="🧪"),
        st.Page(PAGES / "alerts.py", title="Alerts", icon="🔔"),
        st.Page(PAGES / "downloads.py", title="Data", icon="💾"),
    ]
)
with st.sidebar:
    st.caption(f"store `{data.settings().store_url}` · engine `{data.settings().api_url}`")
    ui.feed_status_panel()
    ui.alert_toasts()
nav.run()
