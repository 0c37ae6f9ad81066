"""Data access of the dashboard: cached read-only store reads and calls to the engine's API.

The store handle is one cached resource per URL (opened read-only: the engine is the single
writer). Reads are cached for a few seconds so live panels share them; the engine is reached over
HTTP with short timeouts and every failure becomes an :class:`EngineUnavailableError` or
:class:`EngineError` with a message a page can show as it is.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import streamlit as st

from statarb.errors import StatarbError

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from statarb.config import Settings
    from statarb.store.base import TickStore

#: seconds a store read stays cached (live panels refresh on this scale)
LIVE_TTL = 2.0
HISTORY_TTL = 30.0
TIMEFRAMES = ("1s", "1m", "5m", "15m", "1h")


class EngineUnavailableError(StatarbError):
    """The engine's API did not answer (not started, wrong URL, timed out)."""


class EngineError(StatarbError):
    """The engine answered with an error (the message carries its detail)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """The dashboard's settings (from the ``STATARB_*`` environment the launcher passed)."""
    from statarb.config import load_settings

    return load_settings()


@st.cache_resource(show_spinner=False)
def store(url: str) -> TickStore:
    """The read-only store handle for ``url`` (one per process)."""
    from statarb.store import open_store

    return open_store(url, read_only=True)


def _store() -> TickStore:
    return store(settings().store_url)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def symbols_table(url: str) -> list[dict[str, Any]]:
    """Every stored symbol as :meth:`SymbolInfo.to_dict` rows."""
    return [info.to_dict() for info in store(url).symbols()]


def symbol_names() -> list[str]:
    """Names of the stored symbols (empty when the store holds nothing)."""
    return [row["symbol"] for row in symbols_table(settings().store_url)]


@st.cache_data(ttl=LIVE_TTL, show_spinner=False, max_entries=32)
def bars(url: str, symbol: str, timeframe: str, start: int | None, end: int | None) -> pd.DataFrame:
    """Bars of one symbol as :func:`statarb.export.bars_frame` (time, OHLCV, ...)."""
    from statarb.export import bars_frame
    from statarb.history import load_bars

    return bars_frame(load_bars(store(url), symbol, timeframe, start, end))


@st.cache_data(ttl=LIVE_TTL, show_spinner=False, max_entries=32)
def aligned_closes(
    url: str, symbols: tuple[str, ...], timeframe: str, start: int | None, end: int | None
) -> pd.DataFrame:
    """Closes of ``symbols`` on one clock, rows where every leg has a value."""
    from statarb.history import load_aligned

    return load_aligned(store(url), list(symbols), timeframe, start, end).dropna()


#: bars read again at the end of a live window (late or rewritten bars replace cached ones)
REREAD_BARS = 5
_LIVE_KEYS = 16


@st.cache_resource(show_spinner=False)
def _live_frames() -> tuple[threading.Lock, dict[tuple[Any, ...], pd.DataFrame]]:
    return threading.Lock(), {}


def live_closes(
    url: str, symbols: tuple[str, ...], timeframe: str, start: int | None
) -> pd.DataFrame:
    """Like :func:`aligned_closes`, but after the first call only the newest bars are read.

    The frame of each (store, symbols, timeframe) is kept; a refresh reads from
    :data:`REREAD_BARS` bars before its end, replaces that tail and trims the front to
    ``start``. So a live panel over a day of 1 s bars pays for a few rows per refresh.
    """
    import pandas as pd

    from statarb.history import load_aligned
    from statarb.model import Timeframe

    lock, frames = _live_frames()
    key = (url, symbols, timeframe)
    with lock:
        prev = frames.get(key)
    first = None if start is None else pd.Timestamp(start * 1000, tz="UTC")
    covered = (
        prev is not None
        and len(prev) > 0
        and (
            (first is None and prev.attrs.get("from_start"))
            or (first is not None and prev.index[0] <= first)
        )
    )
    if not covered:
        frame = load_aligned(store(url), list(symbols), timeframe, start, None).dropna()
        frame.attrs["from_start"] = start is None
    else:
        assert prev is not None
        last_us = prev.index[-1].value // 1000
        reread = last_us - REREAD_BARS * Timeframe.parse(timeframe).us
        tail = load_aligned(store(url), list(symbols), timeframe, reread, None).dropna()
        head = prev[prev.index < tail.index[0]] if len(tail) else prev
        frame = pd.concat([head, tail]) if len(tail) else prev
        if first is not None:
            frame = frame[frame.index >= first]
        frame.attrs["from_start"] = start is None and bool(prev.attrs.get("from_start"))
    with lock:
        frames[key] = frame
        while len(frames) > _LIVE_KEYS:
            frames.pop(next(iter(frames)))
    return frame


@st.cache_data(ttl=HISTORY_TTL, show_spinner=False, max_entries=8)
def ticks(url: str, symbol: str, start: int | None, end: int | None) -> pd.DataFrame:
    """Ticks of one symbol as :func:`statarb.export.ticks_frame`."""
    from statarb.export import ticks_frame

    return ticks_frame(store(url).read_ticks(symbol, start, end))


def table_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` written as ``"csv"`` or ``"parquet"`` by :func:`statarb.export.write_table`."""
    from statarb.export import write_table

    with tempfile.TemporaryDirectory(prefix="statarb-dl-") as tmp:
        path = write_table(frame, Path(tmp) / f"table.{fmt}")
        return path.read_bytes()


# -- engine API --------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _client(base_url: str) -> httpx.Client:
    import httpx

    return httpx.Client(base_url=base_url, timeout=httpx.Timeout(5.0, connect=1.5))


def _headers(write: bool) -> dict[str, str]:
    token = settings().api_token
    return {"Authorization": f"Bearer {token}"} if write and token else {}


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail)


def api(method: str, path: str, **kwargs: Any) -> Any:
    """Call the engine's API; return the decoded JSON (``None`` for 204).

    Raises
    ------
    EngineUnavailableError
        The API is not reachable at ``settings().api_url``.
    EngineError
        It answered with an error status (message includes the engine's detail).
    """
    import httpx

    url = settings().api_url
    write = method.upper() != "GET"
    try:
        resp = _client(url).request(method, path, headers=_headers(write), **kwargs)
    except httpx.HTTPError as exc:
        raise EngineUnavailableError(
            f"the engine is not reachable at {url} ({type(exc).__name__}); start it with "
            "`statarb serve` or `statarb up`, or set STATARB_API_URL"
        ) from None
    if resp.status_code in (401, 403):
        hint = "" if settings().api_token else " (no STATARB_API_TOKEN is set for the dashboard)"
        raise EngineError(
            f"the engine refused the request: {_detail(resp)}{hint}", resp.status_code
        )
    if resp.status_code >= 400:
        raise EngineError(
            f"{method} {path} failed ({resp.status_code}): {_detail(resp)}", resp.status_code
        )
    return None if resp.status_code == 204 or not resp.content else resp.json()


@st.cache_data(ttl=1.0, show_spinner=False)
def feeds_status(api_url: str) -> dict[str, Any]:
    """``GET /api/v1/feeds`` (cached a second; ``api_url`` keys the cache)."""
    return api("GET", "/api/v1/feeds")


def feed_summary(status: dict[str, Any]) -> dict[str, Any]:
    """Sidebar figures from ``GET /api/v1/feeds``: connected, msgs/s, lag, gaps, symbols."""
    feeds = status.get("feeds", [])
    stats = [f.get("stats") or {} for f in feeds]
    lags = [s["latency_p50_ms"] for s in stats if s.get("latency_p50_ms") is not None]
    return {
        "feeds": len(feeds),
        "connected": bool(feeds) and all(s.get("connected") for s in stats),
        "messages": sum(int(s.get("messages", 0)) for s in stats),
        "lag_ms": max(lags) if lags else None,
        "gaps": sum(int(s.get("gaps", 0)) for s in stats),
        "backfilled": sum(int(s.get("backfilled", 0)) for s in stats),
        "symbols": sorted({sym for f in feeds for sym in f.get("symbols", [])}),
    }


def upload_file(name: str, content: bytes, symbol: str | None) -> dict[str, Any]:
    """``POST /api/v1/ticks/file``: the engine imports the file; returns its import report."""
    params = {"symbol": symbol} if symbol else {}
    return api(
        "POST", "/api/v1/ticks/file", files={"file": (name, content)}, params=params, timeout=600.0
    )


# -- analytics on stored history (the library computes; these only cache and assemble) ------------

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
) -> dict[str, Any]:
    """:func:`~statarb.analytics.pair.analyze_pair` summary (ADF, cointegration, half-life ...)
    plus ``as_of`` (the last bar it saw); cached like :func:`hedge_estimates`."""
    from statarb.analytics.pair import analyze_pair

    res = analyze_pair(
        _closes[a].to_numpy(dtype=float),
        _closes[b].to_numpy(dtype=float),
        method=method,
        window=window,
        bar_seconds=bar_seconds,
        z_window=z_window,
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
    if method == "kalman":
        from statarb.analytics.kalman import DEFAULT_DELTA, kalman_hedge

        # observation noise from an OLS fit on the first bars only (no look-ahead)
        k = kalman_hedge(y, x, delta=DEFAULT_DELTA if delta is None else delta, obs_var="auto")
        path, alpha = np.asarray(k.beta), np.asarray(k.alpha)
        beta: Any = path
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


def verdicts(stats: dict[str, Any], alpha: float = 0.05) -> dict[str, str]:
    """Plain-language verdicts from the pair summary (ADF, Engle-Granger, half-life)."""
    out = {}
    p = stats.get("adf_pvalue")
    if p is not None:
        out["ADF"] = f"spread {'stationary' if p < alpha else 'not stationary'} (p={p:.4f})"
    p = stats.get("eg_pvalue")
    if p is not None:
        out["Cointegration"] = f"{'cointegrated' if p < alpha else 'not cointegrated'} (p={p:.4f})"
    hl = stats.get("half_life")
    if hl is not None:
        finite = hl == hl and 0 < hl < float("inf")
        out["Half-life"] = f"{hl:,.1f} s" if finite else "no mean reversion"
    return out


@st.cache_data(show_spinner=False, max_entries=8)
def correlation_matrix(closes: pd.DataFrame, on: str) -> pd.DataFrame:
    """Pearson correlation of the columns' prices (``on="prices"``) or simple returns."""
    frame = closes if on == "prices" else closes.pct_change().iloc[1:]
    return frame.corr()


@st.cache_data(ttl=HISTORY_TTL, show_spinner=False, max_entries=8)
def liquidity_table(
    url: str, symbols: tuple[str, ...], timeframe: str, start: int | None
) -> pd.DataFrame:
    """Per symbol over the range: bars, volume, notional, trades and notional per bar."""
    import pandas as pd

    rows = []
    for sym in symbols:
        f = bars(url, sym, timeframe, start, None)
        rows.append(
            {
                "symbol": sym,
                "bars": len(f),
                "volume": float(f["volume"].sum()),
                "notional": float(f["notional"].sum()),
                "trades": int(f["trades"].sum()),
                "notional_per_bar": float(f["notional"].mean()) if len(f) else 0.0,
            }
        )
    return pd.DataFrame(rows)


@st.cache_data(show_spinner=False, max_entries=8)
def scan_table(closes: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """:func:`statarb.analytics.scan.scan_pairs` ranking of every pair of ``closes``' columns."""
    from statarb.analytics.scan import scan_pairs

    return scan_pairs(closes, **options).table


@st.cache_data(show_spinner=False, max_entries=8)
def backtest(closes: pd.DataFrame, a: str, b: str, params: dict[str, Any]) -> dict[str, Any]:
    """:func:`statarb.backtest.run_backtest` of ``a`` against ``b``; plain parts for display."""
    from statarb.backtest import BacktestConfig, run_backtest

    res = run_backtest(
        closes[a].to_numpy(dtype=float),
        closes[b].to_numpy(dtype=float),
        config=BacktestConfig(**params),
        index=closes.index,
    )
    return {
        "equity": res.equity,
        "drawdown": res.drawdown,
        "trades": res.trades_frame(),
        "metrics": dict(res.metrics) if isinstance(res.metrics, dict) else res.metrics.to_dict(),
        "summary": res.summary(),
    }


@st.cache_data(show_spinner=False, max_entries=4)
def backtest_sweep(
    closes: pd.DataFrame, a: str, b: str, params: dict[str, Any], grid: dict[str, list[float]]
) -> pd.DataFrame:
    """:func:`statarb.backtest.sweep` over ``grid`` (one row per parameter combination)."""
    from statarb.backtest import BacktestConfig, sweep

    return sweep(
        closes[a].to_numpy(dtype=float),
        closes[b].to_numpy(dtype=float),
        config=BacktestConfig(**params),
        grid=grid,
    )
