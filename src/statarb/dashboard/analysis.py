"""Analytics of stored history for the pages: the library computes, this module caches and
assembles (series on the display index, slow statistics refreshed per time slot)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import streamlit as st

from statarb.dashboard.data import HISTORY_TTL, bars

if TYPE_CHECKING:
    import pandas as pd


STATIC_METHODS = ("ols", "huber", "theil-sen")


#: seconds between recomputations of the slow statistics while a pair page is live
TESTS_EVERY = 30.0


def as_of_bucket() -> int:
    """The current :data:`TESTS_EVERY` slot of wall-clock time (a cache key for slow parts)."""
    import time

    return int(time.time() // TESTS_EVERY)


@st.cache_data(show_spinner=False, max_entries=16)
def hedge_estimates(
    _closes: pd.DataFrame, a: str, b: str, *, first: str, bucket: int
) -> dict[str, float]:
    """Static hedge ratio of ``a`` on ``b`` by each regression method.

    Cached on (pair, window start, time ``bucket``) rather than on the data, so a live page
    recomputes these slow fits once per :data:`TESTS_EVERY` seconds, not on every new bar.
    """
    from statarb.analytics.regression import hedge_ratio

    y, x = _closes[a].to_numpy(), _closes[b].to_numpy()
    return {m: float(hedge_ratio(y, x, method=cast(Any, m)).beta) for m in STATIC_METHODS}


@st.cache_data(show_spinner=False, max_entries=16)
def static_fit(
    _closes: pd.DataFrame, a: str, b: str, *, method: str, first: str, bucket: int
) -> tuple[float, float]:
    """(beta, intercept) of the static regression, cached like :func:`hedge_estimates`
    (Huber takes over a second on a day of 1 s bars: a live page must not pay it per bar)."""
    from statarb.analytics.regression import hedge_ratio

    fit = hedge_ratio(_closes[a].to_numpy(), _closes[b].to_numpy(), method=cast(Any, method))
    return float(fit.beta), float(fit.intercept)


@st.cache_data(show_spinner=False, max_entries=16)
def pair_tests(
    _closes: pd.DataFrame,
    a: str,
    b: str,
    *,
    method: str,
    window: int | None,
    z_window: int,
    bar_seconds: float,
    first: str,
    bucket: int,
    delta: float | None = None,
) -> dict[str, Any]:
    """:func:`~statarb.analytics.pair.analyze_pair` summary (ADF, cointegration, half-life ...)
    plus ``as_of`` (the last bar it saw); cached like :func:`hedge_estimates`."""
    from statarb.analytics.kalman import DEFAULT_DELTA
    from statarb.analytics.pair import analyze_pair

    res = analyze_pair(
        _closes[a].to_numpy(dtype=float),
        _closes[b].to_numpy(dtype=float),
        method=cast(Any, method),
        window=window,
        bar_seconds=bar_seconds,
        z_window=z_window,
        delta=DEFAULT_DELTA if delta is None else delta,
    )
    return {**res.to_dict(), "as_of": str(_closes.index[-1])}


@st.cache_data(show_spinner=False, max_entries=16)
def pair_view(
    closes: pd.DataFrame,
    a: str,
    b: str,
    *,
    method: str,
    window: int | None,
    z_window: int,
    bar_seconds: float,
    delta: float | None = None,
    fit: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """The pair page's series, computed by :mod:`statarb.analytics` on ``closes``.

    Returns a dict with ``index``, ``hedge_ratio`` (the latest), ``beta`` (path or ``None``),
    ``spread``, ``zscore``, ``correlation``, ``vol_a`` and ``vol_b`` (arrays over ``index``).
    ``fit`` gives the static (beta, intercept) to use instead of fitting ``method`` here.
    """
    import numpy as np

    from statarb.analytics.regression import hedge_ratio, rolling_hedge_ratio
    from statarb.analytics.rolling import realized_volatility, rolling_correlation
    from statarb.analytics.spread import spread, zscore

    y, x = closes[a].to_numpy(dtype=float), closes[b].to_numpy(dtype=float)
    path = None
    beta: Any
    alpha: Any
    if method == "kalman":
        from statarb.analytics.kalman import DEFAULT_DELTA, kalman_hedge

        # observation noise from an OLS fit on the first bars only (no look-ahead)
        k = kalman_hedge(y, x, delta=DEFAULT_DELTA if delta is None else delta, obs_var="auto")
        path, alpha = np.asarray(k.beta), np.asarray(k.alpha)
        beta = path
    elif window is not None:
        p = rolling_hedge_ratio(y, x, window=window)
        path, alpha = np.asarray(p.beta), np.asarray(p.alpha)
        beta = path
    elif fit is not None:
        beta, alpha = fit
    else:
        static = hedge_ratio(y, x, method=cast(Any, method))
        beta, alpha = static.beta, static.intercept
    spr = np.asarray(spread(y, x, beta, alpha), dtype=float)
    corr_window = window or min(max(z_window, 20), max(len(y) - 1, 2))
    n = len(closes)
    return {
        "index": closes.index,
        "hedge_ratio": float(np.asarray(beta, dtype=float).ravel()[-1]),
        "beta": None if path is None else on_index(path, n),
        "spread": on_index(spr, n),
        "zscore": on_index(zscore(spr, window=z_window), n),
        "correlation": on_index(rolling_correlation(y, x, window=corr_window, on="returns"), n),
        "vol_a": on_index(realized_volatility(y, window=corr_window, bar_seconds=bar_seconds), n),
        "vol_b": on_index(realized_volatility(x, window=corr_window, bar_seconds=bar_seconds), n),
    }


def on_index(values: Any, n: int) -> Any:
    """``values`` as floats over the last ``len(values)`` of ``n`` rows (NaN before), for display.

    Rolling statistics on returns have one value fewer than the prices; they belong to the end.
    """
    import numpy as np

    arr = np.asarray(values, dtype=float).ravel()
    if len(arr) > n:
        raise ValueError(f"a series of {len(arr)} values cannot sit on {n} rows")
    return np.concatenate([np.full(n - len(arr), np.nan), arr])


def verdicts(stats: dict[str, Any], bar_seconds: float, alpha: float = 0.05) -> dict[str, str]:
    """Plain-language verdicts from the pair summary (ADF, Engle-Granger, half-life in bars),
    each naming the test its p-value comes from when the summary says it."""
    out = {}
    p = stats.get("adf_pvalue")
    if p is not None:
        test = f"; {stats['adf_test']}" if stats.get("adf_test") else ""
        out["ADF"] = f"spread {'stationary' if p < alpha else 'not stationary'} (p={p:.4f}{test})"
    p = stats.get("eg_pvalue")
    if p is not None:
        test = f"; {stats['eg_test']}" if stats.get("eg_test") else ""
        word = "cointegrated" if p < alpha else "not cointegrated"
        out["Cointegration"] = f"{word} (p={p:.4f}{test})"
    hl = stats.get("half_life")
    if hl is not None:
        finite = hl == hl and 0 < hl < float("inf")
        out["Half-life"] = (
            f"{hl:,.1f} bars ({_duration(hl * bar_seconds)})" if finite else "no mean reversion"
        )
    return out


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86_400.0), ("h", 3_600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:,.1f} s"


@st.cache_data(show_spinner=False, max_entries=8)
def correlation_matrix(closes: pd.DataFrame, on: str) -> pd.DataFrame:
    """Pearson correlation of the columns' prices (``on="prices"``) or simple returns."""
    frame = closes if on == "prices" else closes.pct_change().iloc[1:]
    return frame.corr()


@st.cache_data(ttl=HISTORY_TTL, show_spinner=False, max_entries=8)
def liquidity(
    url: str, symbols: tuple[str, ...], timeframe: str, start: int | None
) -> dict[str, Any]:
    """:func:`statarb.analytics.liquidity.liquidity_stats` of each symbol's bars in the range."""
    from statarb.analytics.liquidity import liquidity_stats

    return {sym: liquidity_stats(bars(url, sym, timeframe, start, None)) for sym in symbols}


@st.cache_data(show_spinner=False, max_entries=8)
def scan_table(
    prices: pd.DataFrame, _liquidity: dict[str, Any], *, symbols: tuple[str, ...]
) -> pd.DataFrame:
    """:func:`statarb.analytics.scan.scan_pairs` ranking of every pair of ``symbols``.

    Runs in this process: the dashboard's server threads must not fork.
    """
    from statarb.analytics.scan import scan_pairs

    subset = {s: _liquidity[s] for s in symbols}
    return scan_pairs(prices[list(symbols)], liquidity=subset).table


@st.cache_data(show_spinner=False, max_entries=8)
def backtest(
    closes: pd.DataFrame, a: str, b: str, params: dict[str, Any], timeframe: str
) -> dict[str, Any]:
    """:func:`statarb.backtest.run_backtest` of ``a`` against ``b`` on ``timeframe`` bars.

    The config comes from :meth:`BacktestConfig.for_timeframe`, so the annualisation is the
    timeframe's, as in ``statarb backtest --tf``. Returns plain parts for display.
    """
    from statarb.backtest import BacktestConfig, run_backtest

    res = run_backtest(
        closes[a].to_numpy(dtype=float),
        closes[b].to_numpy(dtype=float),
        config=BacktestConfig.for_timeframe(timeframe, **params),
        index=closes.index,
    )
    return {
        "equity": res.equity,
        "drawdown": res.drawdown,
        "trades": res.trades_frame(),
        "metrics": dict(res.metrics),
        "summary": res.summary(),
        "ruined": res.ruined,
    }


@st.cache_data(show_spinner=False, max_entries=4)
def backtest_sweep(
    closes: pd.DataFrame,
    a: str,
    b: str,
    params: dict[str, Any],
    grid: dict[str, list[Any]],
    timeframe: str,
) -> pd.DataFrame:
    """:func:`statarb.backtest.sweep` over ``grid`` (one row per parameter combination),
    annualised for ``timeframe`` like :func:`backtest`."""
    from statarb.backtest import BacktestConfig, sweep

    return sweep(
        closes[a].to_numpy(dtype=float),
        closes[b].to_numpy(dtype=float),
        config=BacktestConfig.for_timeframe(timeframe, **params),
        grid=grid,
    )


#: metric cards of the Backtest page, in order: (metric, label, kind)
METRIC_CARDS: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "signed_pct"),
    ("annual_return", "Annual return", "signed_pct"),
    ("sharpe", "Sharpe", "ratio"),
    ("sortino", "Sortino", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("calmar", "Calmar", "ratio"),
    ("trades", "Trades", "int"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "ratio"),
    ("exposure", "Exposure", "pct"),
    ("annual_volatility", "Annual volatility", "pct"),
    ("net_pnl", "Net P&L", "money"),
)


def format_metric(value: Any, kind: str) -> str:
    """Display text of one metric: percent, ratio, integer or money (``n/a`` when undefined)."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "∞" if value > 0 else "-∞"
    if kind == "signed_pct":
        return f"{value:+.2%}"
    if kind == "pct":
        return f"{value:.2%}"
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "int":
        return f"{int(value):,d}"
    return f"{value:,.2f}"


def metric_cards(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """``(label, text)`` of each card in :data:`METRIC_CARDS` (fractions shown as percent)."""
    return [(label, format_metric(metrics.get(k), kind)) for k, label, kind in METRIC_CARDS]


def sweep_display(table: pd.DataFrame) -> pd.DataFrame:
    """The sweep table with fractions as percent (``total_return %`` ...) for display."""
    out = table.copy()
    for col in ("total_return", "max_drawdown", "win_rate"):
        if col in out:
            out[f"{col} %"] = out.pop(col) * 100.0
    return out
