"""Pair analysis: hedge ratio, spread, z-score bands, correlation, volatility, verdicts (live)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from statarb.dashboard import analysis, client, data, figures, tables, ui
from statarb.model import Timeframe

st.title("Pair analysis")
names = ui.require_symbols(2)
cols = st.columns(4)
a, b = ui.pair_pickers(names, "pa", cols)
live_legs = ui.default_timeframe([a, b]) == "1s"
with cols[2]:
    tf = ui.timeframe_picker("pa", default="1s" if live_legs else "1m")
with cols[3]:
    start = ui.lookback_start([a, b], "pa", default="1 hour" if live_legs else "7 days")
ui.data_origin_caption([a, b])
c1, c2, c3, c4 = st.columns(4)
method = c1.selectbox("Regression", ["ols", "huber", "theil-sen", "kalman"], key="pa_method")
rolling = c2.number_input(
    "Rolling window (bars, 0 = static)",
    min_value=0,
    max_value=100_000,
    value=0,
    step=10,
    key="pa_window",
    disabled=method in ("huber", "theil-sen", "kalman"),
)
z_window = int(c3.number_input("z-score window (bars)", 2, 100_000, 60, key="pa_zw"))
entry = c4.number_input("Entry |z|", 0.1, 10.0, 2.0, 0.1, key="pa_entry")
exit_ = c4.number_input("Exit |z|", 0.0, 9.9, 0.5, 0.1, key="pa_exit")
delta = None
if method == "kalman":
    delta = c2.number_input("Kalman delta", 1e-8, 0.5, 1e-4, format="%.1e", key="pa_delta",
                            help="state noise: larger adapts the hedge ratio faster")  # fmt: skip
live = st.toggle("Live (refresh every 2 s)", value=True, key="pa_live")
if a == b:
    st.warning("Pick two different symbols.")
    st.stop()
window = int(rolling) if rolling and method == "ols" else None
url = data.settings().store_url


def _analysis(closes: pd.DataFrame) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Series and slow statistics, or ``None`` after showing why not."""
    opts: dict[str, Any] = {"method": method, "window": window, "z_window": z_window,
                            "bar_seconds": Timeframe.parse(tf).seconds}  # fmt: skip
    slot: dict[str, Any] = {"first": str(closes.index[0]), "bucket": analysis.as_of_bucket()}
    try:
        fit = None
        if method != "kalman" and window is None:
            fit = analysis.static_fit(closes, a, b, method=method, **slot)
        view = analysis.pair_view(closes, a, b, **opts, delta=delta, fit=fit)
        stats = analysis.pair_tests(closes, a, b, **opts, **slot, delta=delta)
        return view, stats
    except Exception as exc:  # bad numbers from user input are shown, not raised
        st.error(f"Analysis failed: {exc}")
    return None


def _num(value: Any, fmt: str) -> str:
    return "-" if value is None or value != value else format(value, fmt)


def _cards(view: dict[str, Any], s: dict[str, Any]) -> None:
    """Live numbers (hedge ratio, z-score, bars) beside the slower tests (as of ``s["as_of"]``)."""
    m = st.columns(6)
    m[0].metric("Hedge ratio", _num(view["hedge_ratio"], ".5g"))
    m[1].metric("Last z-score", _num(view["zscore"][-1], ".3f"))
    m[2].metric("ADF p-value", _num(s.get("adf_pvalue"), ".4f"))
    m[3].metric("EG p-value", _num(s.get("eg_pvalue"), ".4f"))
    m[4].metric("Correlation", _num(s.get("correlation"), ".4f"))
    m[5].metric("Bars", _num(len(view["index"]), ","))
    verdicts = " · ".join(
        f"**{k}**: {v}" for k, v in analysis.verdicts(s, Timeframe.parse(tf).seconds).items()
    )
    st.caption(
        f"{verdicts} · tests as of {s['as_of']} (every {analysis.TESTS_EVERY:g} s when live)"
    )


def engine_panel() -> None:
    """The engine's own live analysis of the pair (per timeframe), or a button to start it."""
    st.markdown("**Engine's live analysis**")
    try:
        state = client.api("GET", f"/api/v1/pairs/{a}/{b}/live")
    except client.EngineUnavailableError as exc:
        st.caption(str(exc))
        return
    except client.EngineError as exc:
        if exc.status != 404:
            st.caption(str(exc))
        elif st.button(f"Analyse {a}/{b} live in the engine", key="pa_watch"):
            ui.engine_call(client.api, "PUT", f"/api/v1/pairs/{a}/{b}/watch")
        return
    rows = [{"timeframe": tf, **values} for tf, values in state.items()]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    else:
        st.caption("watched; waiting for enough bars")


def render() -> None:
    """The charts and numbers; a fragment, so live refreshes redraw only this part."""
    closes = data.live_closes(url, (a, b), tf, start)
    if len(closes) < max(z_window, window or 0) + 2:
        st.warning(f"{len(closes)} aligned {tf} bars of {a} and {b}: not enough for the windows.")
        return
    st.caption(f"{len(closes):,} aligned {tf} bars up to {closes.index[-1]}")
    cards = st.container()
    with cards:
        result = _analysis(closes)
    if result is None:  # the prices need no analytics
        st.plotly_chart(figures.normalized_prices_figure(closes), key="pa_norm")
        engine_panel()
        return
    left, right = st.columns(2)
    right.plotly_chart(figures.normalized_prices_figure(closes), key="pa_norm")
    view, stats = result
    with cards:
        _cards(view, stats)
    idx = view["index"]
    left.plotly_chart(
        figures.lines_figure(idx, {"spread": view["spread"]}, title="Spread"), key="pa_spread"
    )
    st.plotly_chart(figures.zscore_figure(idx, view["zscore"], entry=entry, exit=exit_), key="pa_z")
    # the robust fits (Huber, Theil-Sen) are the slowest part: drawn after the charts above
    slot: dict[str, Any] = {"first": str(closes.index[0]), "bucket": analysis.as_of_bucket()}
    try:
        estimates = analysis.hedge_estimates(closes, a, b, **slot)
    except Exception as exc:  # shown, not raised: the rest of the page stands
        st.error(f"Hedge ratio estimates failed: {exc}")
        estimates = {}
    if method == "kalman":
        estimates = {**estimates, "kalman (last)": float(view["beta"][-1])}
    st.plotly_chart(figures.hedge_ratio_figure(idx, view["beta"], estimates), key="pa_beta")
    left, right = st.columns(2)
    left.plotly_chart(
        figures.lines_figure(
            idx, {"correlation": view["correlation"]}, title="Rolling correlation (returns)"
        ),
        key="pa_corr",
    )
    right.plotly_chart(
        figures.lines_figure(
            idx,
            {a: 100 * np.asarray(view["vol_a"]), b: 100 * np.asarray(view["vol_b"])},
            title="Realized volatility (annualized, %)",
        ),
        key="pa_vol",
    )
    engine_panel()
    with st.expander("Summary statistics"):
        st.dataframe(tables.pair_stats_table(stats, a=a, b=b), hide_index=True)


st.fragment(render, run_every=ui.STATUS_EVERY if live else None)()
