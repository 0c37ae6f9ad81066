"""Book: every watched pair live, ranked by |z|, p-value, half-life or drift, with its health."""

from __future__ import annotations

import streamlit as st

from statarb.dashboard import client, data, ui
from statarb.dashboard.book import SORT_KEYS, book_frame

#: rows the table shows before it scrolls
TABLE_ROWS = 20

st.title("Book")
st.caption(
    "Each pair is analysed by the engine on every closed bar of its timeframe, from past data "
    "only: hedge ratio, spread z-score, half-life, rolling Engle-Granger p-value (y = the first "
    "leg), drift of the hedge ratio in sigmas of its own changes, and a health state (holding, "
    "weakening, broken) from the breakdown detectors. Select a row to open it on the pair page."
)
rows = ui.engine_call(client.api, "GET", "/api/v1/book")
if rows is None:
    st.info("The book lives in the engine: start it (`statarb serve` / `statarb up`) to use it.")
    st.stop()

with st.expander("Add a pair", expanded=not rows), st.form("bk_add", clear_on_submit=False):
    c = st.columns([2, 2, 1, 2, 1, 1, 1, 1])
    a = c[0].text_input("Leg Y", key="bk_a", placeholder="BTCUSDT")
    b = c[1].text_input("Leg X (hedge)", key="bk_b", placeholder="ETHUSDT")
    tf = c[2].selectbox("Timeframe", data.TIMEFRAMES, index=data.TIMEFRAMES.index("1m"),
                        key="bk_tf")  # fmt: skip
    method = c[3].selectbox("Hedge ratio", ["rolling-ols", "kalman"], key="bk_method")
    window = c[4].number_input("Window", 10, 100_000, 120, key="bk_window")
    z_window = c[5].number_input("z window", 10, 100_000, 60, key="bk_zw")
    entry = c[6].number_input("Entry z", 0.1, 20.0, 2.0, 0.1, key="bk_entry")
    exit_ = c[7].number_input("Exit z", -5.0, 5.0, 0.0, 0.1, key="bk_exit")
    if st.form_submit_button("Add to the book", key="bk_submit"):
        body = {"a": a.strip(), "b": b.strip(), "timeframe": tf,
                "settings": {"method": method, "window": int(window), "z_window": int(z_window),
                             "entry": float(entry), "exit": float(exit_)}}  # fmt: skip
        added = ui.engine_call(client.api, "POST", "/api/v1/book", json=body)
        if added is not None:
            st.success(f"{added['a']}/{added['b']} {added['timeframe']} is in the book "
                       f"(pair {added['id']})")  # fmt: skip


@st.fragment(run_every=2.0)
def _table() -> None:
    live = ui.engine_call(client.api, "GET", "/api/v1/book")
    if not live:
        st.info("The book is empty: add a pair above, or from the scan's results.")
        return
    sort = st.radio("Sort by", SORT_KEYS, horizontal=True, key="bk_sort")
    frame = book_frame(live, sort)
    event = st.dataframe(
        frame.drop(columns=["a", "b"]),
        key="bk_table",
        hide_index=True,
        width="stretch",
        height=min(len(frame), TABLE_ROWS) * 35 + 38,  # a book of 50 shows 20 rows at once
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "zscores": st.column_config.LineChartColumn("z (last 60 bars)", y_min=-4, y_max=4),
            "z": st.column_config.NumberColumn(format="%.2f"),
            "|z|": st.column_config.NumberColumn(format="%.2f"),
            "p-value": st.column_config.NumberColumn(format="%.3f", help="rolling Engle-Granger"),
            "half-life": st.column_config.NumberColumn(format="%.1f", help="bars"),
            "drift σ": st.column_config.NumberColumn(format="%.1f"),
            "beta": st.column_config.NumberColumn(format="%.4g"),
            "break-even z": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    picked = event.selection.rows if event is not None else []
    if picked:
        row = frame.iloc[picked[0]]
        st.session_state["pa_a"], st.session_state["pa_b"] = row["a"], row["b"]
        st.switch_page("views/pair.py")
    with st.form("bk_rm"):
        c = st.columns([3, 1])
        gone = c[0].selectbox("Remove a pair", frame["pair"] + " " + frame["tf"], key="bk_rm_pick")
        if c[1].form_submit_button("Remove", key="bk_rm_go") and gone is not None:
            pid = int(frame.loc[(frame["pair"] + " " + frame["tf"]) == gone, "id"].iloc[0])
            try:
                client.api("DELETE", f"/api/v1/book/{pid}")
            except client.EngineError as exc:
                st.error(str(exc))
            else:
                st.rerun()


_table()
