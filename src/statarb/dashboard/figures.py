"""Pure Plotly figure builders of the dashboard: frames and arrays in, ``go.Figure`` out.

No Streamlit, no store, no network: tests call these directly. Long series are thinned for
DISPLAY only (:func:`decimate_indices` keeps each bucket's minimum and maximum so spikes stay
visible; :func:`downsample_ohlc` merges consecutive bars exactly). Computations never see the
thinned data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from statarb.errors import InputError

#: most points drawn per trace
MAX_POINTS = 5_000
UP = "#26a69a"
DOWN = "#ef5350"
_OHLC = ("open", "high", "low", "close")


def decimate_indices(values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``max_points`` samples keeping each bucket's min and max (and the ends).

    Parameters
    ----------
    values
        1-d series (NaN allowed).
    max_points
        Upper bound on the returned indices (>= 4).

    Examples
    --------
    >>> decimate_indices(np.arange(10.0), 100).tolist() == list(range(10))
    True
    """
    if max_points < 4:
        raise InputError(f"max_points must be >= 4, got {max_points}")
    y = np.asarray(values, dtype=float)
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    buckets = (max_points - 2) // 2
    size = -(-n // buckets)
    padded = np.concatenate([y, np.full(buckets * size - n, np.nan)]).reshape(buckets, size)
    lo = np.argmin(np.where(np.isnan(padded), np.inf, padded), axis=1)
    hi = np.argmax(np.where(np.isnan(padded), -np.inf, padded), axis=1)
    base = np.arange(buckets) * size
    idx = np.concatenate([[0, n - 1], base + lo, base + hi])
    return np.unique(idx[idx < n])


def downsample_ohlc(bars: pd.DataFrame, max_bars: int = MAX_POINTS) -> pd.DataFrame:
    """Merge runs of consecutive bars so at most ``max_bars`` remain (display only).

    Each merged bar opens at its first bar's time and open, closes at the last bar's close, and
    has the highest high, lowest low and summed volume of its run.
    """
    _need_columns(bars, ("time", *_OHLC, "volume"))
    n = len(bars)
    if n <= max_bars:
        return bars.reset_index(drop=True)
    step = -(-n // max_bars)
    starts = np.arange(0, n, step)
    ends = np.minimum(starts + step, n) - 1
    out = {
        "time": bars["time"].iloc[starts].to_numpy(),
        "open": bars["open"].to_numpy()[starts],
        "high": np.maximum.reduceat(bars["high"].to_numpy(), starts),
        "low": np.minimum.reduceat(bars["low"].to_numpy(), starts),
        "close": bars["close"].to_numpy()[ends],
        "volume": np.add.reduceat(bars["volume"].to_numpy(), starts),
    }
    if "taker_buy_volume" in bars:
        out["taker_buy_volume"] = np.add.reduceat(bars["taker_buy_volume"].to_numpy(), starts)
    return pd.DataFrame(out)


def as_x(values: Sequence[Any] | pd.Index | pd.Series | np.ndarray) -> np.ndarray:
    """An x array Plotly serializes fast: tz-aware times become naive UTC ``datetime64``.

    (A tz-aware index would become an object array of Timestamps, copied item by item.)
    """
    if isinstance(values, pd.Series):
        values = pd.Index(values)
    if isinstance(values, pd.DatetimeIndex):
        if values.tz is not None:
            values = values.tz_convert("UTC").tz_localize(None)
        return values.to_numpy(dtype="datetime64[ns]")
    return np.asarray(values)


def _need_columns(frame: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise InputError(f"frame lacks columns {missing}; it has {list(frame.columns)}")


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 40, "r": 20, "t": 50, "b": 30},
        legend={"orientation": "h", "y": 1.0, "x": 1.0, "xanchor": "right", "yanchor": "bottom"},
        dragmode="zoom",
        hovermode="x unified",
        uirevision=title,
    )
    return fig


def candlestick_figure(
    bars: pd.DataFrame, *, title: str = "", max_bars: int = MAX_POINTS
) -> go.Figure:
    """Candlesticks with a volume subplot (shared, zoomable x axis).

    ``bars`` has columns time, open, high, low, close, volume (see ``export.bars_frame``).
    """
    shown = downsample_ohlc(bars, max_bars)
    x = as_x(shown["time"])
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.03
    )
    fig.add_trace(
        go.Candlestick(
            x=x,
            open=shown["open"],
            high=shown["high"],
            low=shown["low"],
            close=shown["close"],
            name="price",
            increasing_line_color=UP,
            decreasing_line_color=DOWN,
        ),
        row=1,
        col=1,
    )
    up = (shown["close"].to_numpy() >= shown["open"].to_numpy()).astype(np.int8)
    fig.add_trace(
        go.Bar(
            x=x,
            y=shown["volume"],
            name="volume",
            marker={"color": up, "colorscale": [[0, DOWN], [1, UP]], "cmin": 0, "cmax": 1},
        ),
        row=2,
        col=1,
    )
    fig.update_xaxes(rangeslider_visible=False)
    fig.update_yaxes(title_text="volume", row=2, col=1)
    return _layout(fig, title, height=560)


def volume_profile_figure(bars: pd.DataFrame, *, bins: int = 40, title: str = "") -> go.Figure:
    """Volume traded per price level (bar closes binned, weighted by volume), horizontal bars."""
    _need_columns(bars, ("close", "volume"))
    if bins < 1:
        raise InputError(f"bins must be >= 1, got {bins}")
    close = bars["close"].to_numpy(dtype=float)
    vol = bars["volume"].to_numpy(dtype=float)
    counts, edges = np.histogram(close, bins=bins, weights=vol)
    mids = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(go.Bar(x=counts, y=mids, orientation="h", name="volume", marker_color=UP))
    fig.update_yaxes(title_text="price")
    fig.update_xaxes(title_text="volume")
    return _layout(fig, title)


def buy_sell_figure(
    bars: pd.DataFrame, *, title: str = "", max_bars: int = MAX_POINTS
) -> go.Figure:
    """Taker buy and sell volume per bar (sell = volume - taker buy volume), stacked."""
    _need_columns(bars, ("time", "volume", "taker_buy_volume"))
    shown = downsample_ohlc(bars, max_bars) if {*_OHLC} <= set(bars.columns) else bars
    buy = shown["taker_buy_volume"].to_numpy(dtype=float)
    sell = shown["volume"].to_numpy(dtype=float) - buy
    fig = go.Figure(
        [
            go.Bar(x=as_x(shown["time"]), y=buy, name="taker buy", marker_color=UP),
            go.Bar(x=as_x(shown["time"]), y=sell, name="taker sell", marker_color=DOWN),
        ]
    )
    fig.update_layout(barmode="stack")
    return _layout(fig, title)


def lines_figure(
    index: Sequence[Any] | pd.Index,
    series: Mapping[str, np.ndarray | pd.Series],
    *,
    title: str = "",
    hlines: Mapping[str, float] | None = None,
    max_points: int = MAX_POINTS,
    yaxis_title: str = "",
) -> go.Figure:
    """One line per named series over ``index`` (thinned for display), plus horizontal levels.

    Each level in ``hlines`` is drawn as a dashed two-point trace named by its key.
    """
    x = as_x(index)
    fig = go.Figure()
    for name, values in series.items():
        y = np.asarray(values, dtype=float)
        if len(y) != len(x):
            raise InputError(f"series {name!r} has {len(y)} values for {len(x)} index entries")
        keep = decimate_indices(y, max_points)
        fig.add_trace(go.Scattergl(x=x[keep], y=y[keep], mode="lines", name=name))
    if len(x):
        for name, level in (hlines or {}).items():
            fig.add_trace(
                go.Scatter(
                    x=[x[0], x[-1]],
                    y=[level, level],
                    mode="lines",
                    name=name,
                    line={"dash": "dash", "width": 1},
                )
            )
    fig.update_yaxes(title_text=yaxis_title)
    return _layout(fig, title)


def normalized_prices_figure(
    prices: pd.DataFrame, *, title: str = "Normalized prices (first = 100)"
) -> go.Figure:
    """Each column rebased to 100 at its first valid value."""
    rebased = {c: (prices[c] / prices[c].dropna().iloc[0] * 100.0).to_numpy() for c in prices}
    return lines_figure(prices.index, rebased, title=title, yaxis_title="index")


def zscore_figure(
    index: Sequence[Any] | pd.Index,
    zscore: np.ndarray | pd.Series,
    *,
    entry: float,
    exit: float,
    stop: float | None = None,
    title: str = "Spread z-score",
) -> go.Figure:
    """Z-score with entry bands at ``±entry``, exit bands at ``±exit`` (and stop at ``±stop``)."""
    if entry <= 0 or exit < 0 or exit >= entry:
        raise InputError(f"need 0 <= exit < entry, got entry={entry}, exit={exit}")
    levels = {"+entry": entry, "-entry": -entry, "+exit": exit, "-exit": -exit}
    if stop is not None:
        if stop <= entry:
            raise InputError(f"stop must exceed entry ({entry}), got {stop}")
        levels.update({"+stop": stop, "-stop": -stop})
    return lines_figure(index, {"z-score": zscore}, title=title, hlines=levels, yaxis_title="z")


def hedge_ratio_figure(
    index: Sequence[Any] | pd.Index,
    path: np.ndarray | pd.Series | None,
    estimates: Mapping[str, float],
    *,
    title: str = "Hedge ratio",
) -> go.Figure:
    """The hedge-ratio path (when the method has one) beside each method's static estimate."""
    series = {} if path is None else {"path": path}
    return lines_figure(
        index,
        series,
        title=title,
        yaxis_title="beta",
        hlines={f"{k} {v:.4g}": v for k, v in estimates.items()},
    )


def correlation_heatmap_figure(corr: pd.DataFrame, *, title: str = "Correlation") -> go.Figure:
    """A square correlation matrix as a heatmap on [-1, 1] with the values written in cells."""
    if list(corr.index) != list(corr.columns):
        raise InputError("correlation matrix must have the same labels on both axes")
    z = corr.to_numpy(dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(corr.columns),
            y=list(corr.index),
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            reversescale=True,
            text=np.round(z, 2),
            texttemplate="%{text}",
            hovertemplate="%{y} / %{x}: %{z:.4f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=max(360, 40 * len(corr) + 120))


def equity_figure(
    index: Sequence[Any] | pd.Index,
    equity: np.ndarray | pd.Series,
    drawdown: np.ndarray | pd.Series,
    *,
    title: str = "Equity and drawdown",
) -> go.Figure:
    """Equity curve above its drawdown (shared x axis)."""
    x = as_x(index)
    eq = np.asarray(equity, dtype=float)
    dd = np.asarray(drawdown, dtype=float)
    if not len(x) == len(eq) == len(dd):
        raise InputError(f"lengths differ: index {len(x)}, equity {len(eq)}, drawdown {len(dd)}")
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.03
    )
    k = decimate_indices(eq)
    fig.add_trace(go.Scattergl(x=x[k], y=eq[k], mode="lines", name="equity"), row=1, col=1)
    k = decimate_indices(dd)
    fig.add_trace(
        go.Scattergl(
            x=x[k], y=dd[k], mode="lines", name="drawdown", fill="tozeroy", line={"color": DOWN}
        ),
        row=2,
        col=1,
    )
    return _layout(fig, title, height=520)


def sweep_heatmap_figure(
    table: pd.DataFrame, *, x: str, y: str, value: str, title: str = ""
) -> go.Figure:
    """A parameter sweep as a heatmap of ``value`` over the grid of ``x`` and ``y``."""
    _need_columns(table, (x, y, value))
    grid = table.pivot_table(index=y, columns=x, values=value, aggfunc="mean")
    z = grid.to_numpy(dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{v:g}" for v in grid.columns],
            y=[f"{v:g}" for v in grid.index],
            colorscale="Viridis",
            text=np.round(z, 3),
            texttemplate="%{text}",
            colorbar={"title": value},
        )
    )
    # categorical axes: every grid value gets one cell of the same width, however uneven the
    # values are (numeric-looking labels would otherwise be placed on a linear axis)
    fig.update_xaxes(title_text=x, type="category")
    fig.update_yaxes(title_text=y, type="category")
    return _layout(fig, title or f"{value} by {x} and {y}")


__all__ = [
    "MAX_POINTS",
    "as_x",
    "buy_sell_figure",
    "candlestick_figure",
    "correlation_heatmap_figure",
    "decimate_indices",
    "downsample_ohlc",
    "equity_figure",
    "hedge_ratio_figure",
    "lines_figure",
    "normalized_prices_figure",
    "sweep_heatmap_figure",
    "volume_profile_figure",
    "zscore_figure",
]
