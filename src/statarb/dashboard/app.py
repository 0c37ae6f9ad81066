"""The dashboard's entry script (``streamlit run``): navigation, sidebar status, alert toasts."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from statarb.dashboard import data, ui
from statarb.dashboard.auth import require_login
from statarb.masking import mask_url

# The default page is served at "/" only (a url path of its own would answer "Page not found"):
# so the default is a small overview at "/", and every view (Market included) has its own path.
# not "pages": a folder of that name next to the entry script switches Streamlit to its
# directory-based navigation, which never runs this script
PAGES = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="statarb", page_icon=":material/monitoring:", layout="wide")
require_login(data.settings())  # before any view runs or any API call is made
#: (file, title, icon, url path)
VIEWS = [
    ("overview.py", "Overview", ":material/home:", ""),
    ("data_source.py", "Data source", ":material/cable:", "data-source"),
    ("market.py", "Market", ":material/candlestick_chart:", "market"),
    ("pair.py", "Pair analysis", ":material/balance:", "pair"),
    ("book.py", "Book", ":material/view_list:", "book"),
    ("paper.py", "Paper", ":material/receipt_long:", "paper"),
    ("correlation.py", "Correlation & scan", ":material/grid_on:", "correlation"),
    ("backtest.py", "Backtest", ":material/science:", "backtest"),
    ("strategy.py", "Strategy & portfolio", ":material/stacked_line_chart:", "strategy"),
    ("alerts.py", "Alerts", ":material/notifications:", "alerts"),
    ("downloads.py", "Data", ":material/download:", "data"),
]
nav = st.navigation(
    [st.Page(PAGES / f, title=t, icon=i, url_path=u, default=not u) for f, t, i, u in VIEWS]
)
ui.warm_up()
with st.sidebar:
    cfg = data.settings()
    st.caption(f"store `{mask_url(cfg.store_url)}` · engine `{mask_url(cfg.api_url)}`")
    ui.feed_status_panel()
    ui.alert_toasts()
nav.run()
