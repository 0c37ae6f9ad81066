"""Strategy: OU bands of a pair beside its z bands, a guarded sweep, and a book of pairs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from statarb.backtest import HEDGE_MODES
from statarb.dashboard import data, strategy_figures, ui


@st.cache_data(show_spinner=False, max_entries=8)
def _study(closes: pd.DataFrame, a: str, b: str, params: dict[str, Any]) -> dict[str, Any]:
    from statarb.backtest import BacktestConfig
    from statarb.backtest.hedge import signal_inputs
    from statarb.backtest.ou_study import ou_study

    cfg = BacktestConfig(**params)
    y, x = closes[a].to_numpy(dtype=float), closes[b].to_numpy(dtype=float)
    study = ou_study(y, x, config=cfg, objective="both")
    return {"study": study.to_dict(), "summary": study.summary(),
            "spread": signal_inputs(y, x, cfg)[2]}  # fmt: skip


@st.cache_data(show_spinner=False, max_entries=4)
def _sweep(
    closes: pd.DataFrame, a: str, b: str, params: dict[str, Any], grid: dict[str, list[Any]]
) -> dict[str, Any]:
    from statarb.backtest import BacktestConfig
    from statarb.backtest.sweep import sweep_report

    rep = sweep_report(closes[a].to_numpy(dtype=float), closes[b].to_numpy(dtype=float),
                       config=BacktestConfig(**params), grid=grid)  # fmt: skip
    pbo = rep.overfit.pbo.pbo if rep.overfit.pbo is not None else None
    return {"table": rep.table, "best": rep.best, "pbo": pbo, "summary": rep.summary()}


@st.cache_data(show_spinner=False, max_entries=4)
def _book(closes: pd.DataFrame, pairs: list[str], params: dict[str, Any]) -> dict[str, Any]:
    from statarb.backtest.portfolio import PortfolioConfig, run_portfolio

    res = run_portfolio(pairs, closes, config=PortfolioConfig(**params), index=closes.index)
    return {"equity": res.equity, "gross": res.gross, "open": res.open_pairs,
            "summary": res.summary(), "metrics": res.metrics,
            "pair_metrics": res.pair_metrics(), "contribution": res.contribution(),
            "corr": res.correlation(), "trades": res.trades_frame()}  # fmt: skip


st.title("Strategy")
names = ui.require_symbols(2)
c1, c2, c3, c4 = st.columns(4)
a = c1.selectbox("Leg Y", names, index=0, key="st_a")
b = c2.selectbox("Leg X", names, index=1, key="st_b")
with c3:
    tf = ui.timeframe_picker("st", default="1m")
with c4:
    start = ui.lookback_start([a, b], "st", default="all")
p = st.columns(5)
params: dict[str, Any] = {
    "entry": p[0].number_input("Entry |z|", 0.1, 10.0, 2.0, 0.1, key="st_entry"),
    "exit": p[1].number_input("Exit |z|", 0.0, 9.9, 0.0, 0.1, key="st_exit"),
    "window": int(p[2].number_input("Window (bars)", 5, 100_000, 60, 5, key="st_window")),
    "method": p[3].selectbox(
        "Hedge ratio", HEDGE_MODES, index=HEDGE_MODES.index("rolling-ols"), key="st_method"
    ),
    "fee_bps": p[4].number_input("Fee (bps per side)", 0.0, 100.0, 4.0, 0.5, key="st_fee"),
}
if a == b:
    st.warning("Pick two different symbols.")
    st.stop()
if not params["exit"] < params["entry"]:
    st.error("Need exit < entry.")
    st.stop()
closes = data.aligned_closes(data.settings().store_url, (a, b), tf, start, None)
if len(closes) <= params["window"] + 12:
    st.warning(f"{len(closes)} aligned {tf} bars: fewer than the window needs.")
    st.stop()

st.subheader("OU model of the spread and Bertram's optimal bands")
try:
    ou = _study(closes, a, b, params)
except Exception as exc:
    st.error(f"No OU fit: {exc}")
else:
    fit, bands = ou["study"]["fit"], ou["study"]["bands"]
    cards = st.columns(5)
    cards[0].metric("half-life (bars)", f"{fit['half_life']:.1f}", f"± {fit['se_half_life']:.2g}")
    cards[1].metric("theta / bar", f"{fit['theta']:.4g}", f"± {fit['se_theta']:.2g}")
    cards[2].metric("OU entry (z)", f"±{bands['entry_z']:.2f}")
    cards[3].metric("your entry (z)", f"±{params['entry']:.2f}")
    sb = ou["study"]["sharpe_bands"]
    cards[4].metric("Sharpe-optimal (z)", f"±{sb['entry_z']:.2f}" if sb else "n/a")
    st.caption(
        "Bertram (2010): return-optimal symmetric bands with the round-trip cost "
        f"{ou['study']['cost']:.4g} (spread units); z bands use the rolling window."
    )
    st.plotly_chart(
        strategy_figures.ou_bands_figure(
            closes.index,
            ou["spread"],
            mu=fit["mu"],
            lower=bands["lower"],
            upper=bands["upper"],
            z_window=params["window"],
            entry_z=params["entry"],
            exit_z=params["exit"],
        ),
        key="st_ou",
    )

st.subheader("Sweep with overfitting guards")
s1, s2 = st.columns(2)
entries = s1.multiselect("Entry values", list(np.round(np.arange(1.0, 3.01, 0.25), 2)),
                         default=[1.5, 2.0, 2.5], key="st_se")  # fmt: skip
windows = s2.multiselect("Window values", [20, 30, 60, 120, 240, 480], default=[30, 60, 120],
                         key="st_sw")  # fmt: skip
if st.button("Run guarded sweep", key="st_sweep", disabled=not entries or not windows):
    grid: dict[str, list[Any]] = {
        "entry": [float(e) for e in entries],
        "window": [int(w) for w in windows],
    }
    try:
        rep = _sweep(closes, a, b, params, grid)
    except Exception as exc:
        st.error(f"Sweep failed: {exc}")
    else:
        st.plotly_chart(
            strategy_figures.guarded_sweep_figure(
                rep["table"], x="window", y="entry", best=rep["best"], pbo=rep["pbo"]
            ),
            key="st_heat",
        )
        st.text(rep["summary"])
        st.dataframe(rep["table"], hide_index=True)

st.subheader("Book of pairs")
default_pairs = ", ".join(f"{names[0]}/{n}" for n in names[1:4])
with st.form("st_book"):
    text = st.text_input("Pairs (Y/X, comma-separated)", default_pairs, key="st_pairs")
    q = st.columns(5)
    book_params: dict[str, Any] = {
        "sizing": q[0].selectbox("Sizing", ["equal", "inverse-vol", "risk"], key="st_sizing"),
        "size": q[1].number_input("Size (fraction of equity)", 0.0001, 10.0, 0.1, key="st_size"),
        "max_open": int(q[2].number_input("Max open pairs", 1, 50, 5, key="st_maxopen")),
        "pair_cap": q[3].number_input("Pair cap (x equity)", 0.01, 100.0, 0.25, key="st_pcap"),
        "gross_cap": q[4].number_input("Gross cap (x equity)", 0.01, 100.0, 2.0, key="st_gcap"),
    }
    r = st.columns(2)
    book_params["time_stop"] = r[0].number_input("Time stop (half-lives, 0: none)", 0.0, 100.0,
                                                 0.0, key="st_ts") or None  # fmt: skip
    book_params["stop"] = r[1].number_input("Stop |z| (needed by risk sizing)", 0.0, 50.0, 4.0,
                                            key="st_stop") or None  # fmt: skip
    run = st.form_submit_button("Run book")
if run:
    pairs = [s.strip().upper() for s in text.split(",") if s.strip()]
    symbols = sorted({s for pair in pairs for s in pair.split("/") if s})
    book_closes = data.aligned_closes(data.settings().store_url, tuple(symbols), tf, start, None)
    try:
        res = _book(book_closes.dropna(), pairs, {**params, **book_params})
    except Exception as exc:
        st.error(f"Book failed: {exc}")
    else:
        st.text(res["summary"])
        idx = book_closes.dropna().index
        st.plotly_chart(strategy_figures.book_figure(idx, res["equity"], res["gross"],
                                                     res["open"], capital=100_000.0),
                        key="st_book_fig")  # fmt: skip
        st.markdown("**Contribution**")
        st.dataframe(res["contribution"], hide_index=True)
        st.markdown("**Per pair**")
        st.dataframe(res["pair_metrics"], hide_index=True)
        st.plotly_chart(strategy_figures.pair_correlation_figure(res["corr"]), key="st_corr")
        ui.download_buttons(res["trades"], "book_trades", "st_trades")
