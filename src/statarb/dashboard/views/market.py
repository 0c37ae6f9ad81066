"""Market: candlesticks with volume, volume analysis and price statistics of one symbol."""

from __future__ import annotations

import streamlit as st

from statarb.dashboard import data, figures, tables, ui

st.title("Market")
names = ui.require_symbols(1)
c1, c2, c3 = st.columns(3)
with c1:
    symbol = st.selectbox("Symbol", ui.order_symbols(names), key="mk_symbol")
with c2:
    tf = ui.timeframe_picker("mk", default="1m")
with c3:
    start = ui.lookback_start([symbol], "mk")
ui.data_origin_caption([symbol])
url = data.settings().store_url
bars = data.bars(url, symbol, tf, start, None)
if bars.empty:
    st.warning(f"No {tf} bars of {symbol} in that range.")
    st.stop()
st.plotly_chart(
    figures.candlestick_figure(bars, title=f"{symbol} {tf}"),
    key="mk_candles",
    config={"scrollZoom": True},
)

left, right = st.columns(2)
left.plotly_chart(figures.volume_profile_figure(bars, title="Volume by price"), key="mk_vp")
right.plotly_chart(figures.buy_sell_figure(bars, title="Taker buy / sell volume"), key="mk_bs")

st.subheader("Price statistics")
st.dataframe(tables.price_stats_table({symbol: bars}), hide_index=True)
vol = bars["volume"].sum()
st.caption(
    f"{len(bars):,} bars from {bars['time'].iloc[0]} to {bars['time'].iloc[-1]} · "
    f"volume {vol:,.4g} · notional {bars['notional'].sum():,.0f} USDT"
)
