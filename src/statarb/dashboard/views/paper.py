"""Paper: the book's pairs traded on paper, live: equity, positions, orders, fills, start/stop."""

from __future__ import annotations

from typing import Any

import streamlit as st

from statarb.dashboard import client, ui
from statarb.dashboard.paper import (
    equity_curve_figure,
    fills_frame,
    orders_frame,
    positions_frame,
)

st.title("Paper")
st.caption(
    "A strategy attached to a pair of the book decides at each bar close with the backtester's "
    "rule and fills both legs on the quotes after the close (ask for a buy, bid for a sell, plus "
    "slippage and fees). Start and stop need the engine's API token. `statarb paper parity` "
    "checks the paper trader against the backtest on a recording (docs/paper.md)."
)
status = ui.engine_call(client.api, "GET", "/api/v1/paper/status")
book = ui.engine_call(client.api, "GET", "/api/v1/book") if status is not None else None
if status is None or book is None:
    st.info(
        "Paper trading runs in the engine: start it (`statarb serve` / `statarb up`), add a "
        "pair to the book, then attach a strategy here."
    )
    st.stop()

legs = {int(r["id"]): f"{r['a']}/{r['b']} {r['timeframe']}" for r in book}
running = {int(s["pair_id"]): s for s in status["strategies"] if s.get("active", True)}


def _start_form(pairs: dict[int, str]) -> None:
    with st.expander("Start paper trading a pair", expanded=not running), st.form("pp_start"):
        c = st.columns([3, 1, 1, 1, 2, 1, 1])
        ids: list[int] = list(pairs)
        pid = c[0].selectbox(
            "Book pair", ids, format_func=lambda p: pairs.get(p, str(p)), key="pp_pair"
        )
        entry = c[1].number_input("Entry z", 0.1, 20.0, 2.0, 0.1, key="pp_entry")
        exit_ = c[2].number_input("Exit z", -5.0, 5.0, 0.0, 0.1, key="pp_exit")
        stop = c[3].number_input("Stop z (0 none)", 0.0, 50.0, 0.0, 0.5, key="pp_stop")
        notional = c[4].number_input(
            "Notional (both legs)", 1.0, 1e9, 1000.0, 100.0, key="pp_notional"
        )
        fee = c[5].number_input("Fee bps", 0.0, 100.0, 4.0, 0.5, key="pp_fee")
        slip = c[6].number_input("Slippage bps", 0.0, 100.0, 1.0, 0.5, key="pp_slip")
        if st.form_submit_button("Start", key="pp_go") and pid is not None:
            settings: dict[str, Any] = {
                "entry": float(entry),
                "exit": float(exit_),
                "stop": float(stop) or None,
                "notional": float(notional),
                "fee_bps": float(fee),
                "slippage_bps": float(slip),
            }
            row = ui.engine_call(
                client.api,
                "POST",
                "/api/v1/paper/start",
                json={"pair_id": int(pid), "settings": settings},
            )
            if row is not None:
                st.success(f"paper trading {pairs[int(pid)]} (pair {pid})")


def _stop_form() -> None:
    with st.form("pp_stop"):
        c = st.columns([3, 2, 1])
        pid = c[0].selectbox(
            "Stop a strategy",
            list(running),
            format_func=lambda p: legs.get(p, str(p)),
            key="pp_stop_pick",
        )
        flatten = c[1].checkbox("Close the position at market", key="pp_flatten")
        if c[2].form_submit_button("Stop", key="pp_stop_go") and pid is not None:
            row = ui.engine_call(
                client.api,
                "POST",
                "/api/v1/paper/stop",
                json={"pair_id": int(pid), "flatten": bool(flatten)},
            )
            if row is not None:
                state = "stopping once its exit orders fill" if row.get("stopping") else "stopped"
                st.success(f"{legs.get(int(pid), pid)}: {state}")


if not legs:
    st.info("The book is empty: add a pair on the Book page first.")
    st.page_link("views/book.py", label="Book", icon=":material/view_list:")
    st.stop()
_start_form(legs)
if running:
    _stop_form()
st.page_link(
    "views/alerts.py",
    label="Alert on fills or P&L (pair metrics paper_fill, paper_pnl, paper_unrealised)",
    icon=":material/notifications:",
)


_MS = "YYYY-MM-DD HH:mm:ss.SSS"
#: exchange times to the millisecond, quantities and prices with their significant digits
COLUMNS = {
    **{c: st.column_config.DatetimeColumn(format=_MS) for c in ("sent", "time", "opened")},
    **{c: st.column_config.NumberColumn(format="%.6g")
       for c in ("qty", "qty y", "qty x", "price", "base", "ref price", "avg y", "avg x")},
    **{c: st.column_config.NumberColumn(format="%.2f")
       for c in ("fee", "fees", "realised", "unrealised", "pnl")},
}  # fmt: skip


@st.fragment(run_every=2.0)
def _live() -> None:
    pnl = ui.engine_call(client.api, "GET", "/api/v1/paper/pnl", params={"limit": 10_000})
    positions = ui.engine_call(client.api, "GET", "/api/v1/paper/positions")
    if pnl is None or positions is None:
        return
    t = pnl["total"]
    c = st.columns(5)
    c[0].metric("P&L", f"{t['pnl']:,.2f}")
    c[1].metric("Realised", f"{t['realised']:,.2f}")
    c[2].metric("Unrealised", f"{t['unrealised']:,.2f}")
    c[3].metric("Fees", f"{t['fees']:,.2f}")
    c[4].metric("Round trips", f"{t['trades']}")
    if pnl["curve"]:
        st.plotly_chart(
            equity_curve_figure(pnl["curve"], t["unrealised"]),
            width="stretch",
            key="pp_equity",
        )
    else:
        st.caption("No fill yet: the equity curve starts with the first fill.")
    st.subheader("Positions")
    st.dataframe(
        positions_frame(positions),
        hide_index=True,
        width="stretch",
        key="pp_positions",
        column_config=COLUMNS,
    )
    orders = ui.engine_call(client.api, "GET", "/api/v1/paper/orders", params={"limit": 200})
    fills = ui.engine_call(client.api, "GET", "/api/v1/paper/fills", params={"limit": 200})
    left, right = st.columns(2)
    left.subheader("Orders")
    left.dataframe(
        orders_frame(orders or [], legs),
        hide_index=True,
        width="stretch",
        key="pp_orders",
        column_config=COLUMNS,
    )
    right.subheader("Fills")
    right.dataframe(
        fills_frame(fills or [], legs),
        hide_index=True,
        width="stretch",
        key="pp_fills",
        column_config=COLUMNS,
    )


_live()
