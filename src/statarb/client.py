"""A notebook client of the statarb API: pandas in, pandas out, times as tz-aware UTC.

Bars and ticks travel as Arrow IPC streams (``format=arrow``), so a month of 1-minute bars of two
symbols arrives in a fraction of a second. ``scan`` and ``backtest`` fetch the bars over the API
and run the package's own analytics on them here, with the same functions ``statarb scan`` and
``statarb backtest`` use.

Examples
--------
>>> from statarb.client import Client
>>> with Client("http://127.0.0.1:8000") as c:  # doctest: +SKIP
...     bars = c.bars(["BTCUSDT", "ETHUSDT"], "1m", start="2024-08-01", end="2024-08-31")
...     report = c.pair("BTCUSDT", "ETHUSDT", "1m", start="2024-08-01")
...     report.series["zscore"].plot()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx

from statarb.errors import StatarbError

if TYPE_CHECKING:
    import pandas as pd

    from statarb.backtest import BacktestConfig, BacktestResult

TimeLike = str | int | float | dt.datetime | None
_ARROW = "application/vnd.apache.arrow.stream"


class APIError(StatarbError):
    """An error answer of the API (its RFC 9457 problem details are in ``problem``)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status, self.problem = status, problem
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}"
                           for e in problem.get("errors") or [])  # fmt: skip
        super().__init__(f"HTTP {status}: {problem.get('detail') or problem.get('title')}"
                         + (f" ({fields})" if fields else ""))  # fmt: skip


@dataclass(frozen=True)
class PairReport:
    """A pair analysed by the server: scalar results and the per-bar series."""

    metrics: pd.Series
    series: pd.DataFrame
    truncated: bool

    def summary(self) -> str:
        """One line of text."""
        m = self.metrics
        return (f"{m['a']}/{m['b']} hedge ratio {m['hedge_ratio']:.6g}, Engle-Granger "
                f"p={m['eg_pvalue']:.4g}, last z {m['last_zscore']:.3f}, n={m['n']}")  # fmt: skip


def _time(value: TimeLike) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime: give it a time zone (e.g. tzinfo=datetime.UTC)")
        return value.isoformat()
    if hasattr(value, "isoformat"):  # pandas.Timestamp, datetime.date
        return str(value.isoformat())
    return str(value)


class Client:
    """Client of a statarb server (``statarb serve``).

    Parameters
    ----------
    url
        The server, e.g. ``http://127.0.0.1:8000``.
    token
        ``STATARB_API_TOKEN``, needed for write calls only.
    timeout
        Seconds per request.
    session
        An ``httpx.Client`` to use instead of a new one (e.g. a test client of the app).
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:8000",
        token: str | None = None,
        *,
        timeout: float = 60.0,
        session: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if session is not None:
            session.headers.update(headers)
            self._http = session
        else:
            self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        clean = {k: v for k, v in params.items() if v is not None}
        r = self._http.get(path, params=clean)
        if r.status_code >= 400:
            try:
                problem = r.json()
            except ValueError:
                problem = {"detail": r.text[:500]}
            raise APIError(r.status_code, problem if isinstance(problem, dict) else {})
        return r

    def _arrow(self, path: str, params: dict[str, Any]) -> pd.DataFrame:
        import pyarrow as pa

        r = self._get(path, {**params, "format": "arrow"})
        table = pa.ipc.open_stream(r.content).read_all()
        return table.to_pandas()

    # -- reads ---------------------------------------------------------------------------------
    def bars(
        self,
        symbols: str | Sequence[str],
        tf: str = "1m",
        start: TimeLike = None,
        end: TimeLike = None,
        *,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Bars indexed by their UTC open time.

        One symbol gives its OHLCV columns; several give columns ``(symbol, field)``.
        """
        import pandas as pd

        if isinstance(symbols, str):
            return self._bars(symbols, tf, start, end, limit)
        frames = self._each(symbols, lambda s: self._bars(s, tf, start, end, limit))
        return pd.concat(frames, axis=1, names=["symbol", "field"])

    def _each(self, symbols: Sequence[str], fetch: Callable[[str], Any]) -> dict[str, Any]:
        """``fetch`` of every symbol, a few requests at a time (the server reads in threads)."""
        from concurrent.futures import ThreadPoolExecutor

        if len(symbols) == 1:
            return {symbols[0]: fetch(symbols[0])}
        with ThreadPoolExecutor(max_workers=min(4, len(symbols))) as pool:
            return dict(zip(symbols, pool.map(fetch, symbols), strict=True))

    def _bars(self, symbol: str, tf: str, start: TimeLike, end: TimeLike,
              limit: int | None) -> pd.DataFrame:  # fmt: skip
        df = self._arrow(f"/api/v1/bars/{symbol}", {"tf": tf, "start": _time(start),
                                                   "end": _time(end), "limit": limit})  # fmt: skip
        return df.set_index("open_time").rename_axis("time")

    def closes(self, symbols: Sequence[str], tf: str = "1m", start: TimeLike = None,
               end: TimeLike = None) -> pd.DataFrame:  # fmt: skip
        """Close prices, one column per symbol, on the union of their bar times."""
        import pandas as pd

        frames = self._each(symbols, lambda s: self._bars(s, tf, start, end, None))
        return pd.DataFrame({s: f["close"] for s, f in frames.items()}).sort_index()

    def ticks(
        self, symbol: str, start: TimeLike = None, end: TimeLike = None, *, limit: int = 100_000
    ) -> pd.DataFrame:
        """Stored trades indexed by their UTC exchange time, oldest first (at most ``limit``)."""
        df = self._arrow(f"/api/v1/ticks/{symbol}",
                         {"start": _time(start), "end": _time(end), "limit": limit})  # fmt: skip
        return df.set_index("ts").rename_axis("time")

    def pair(
        self,
        a: str,
        b: str,
        tf: str = "1m",
        start: TimeLike = None,
        end: TimeLike = None,
        *,
        method: Literal["ols", "huber", "theil-sen", "kalman"] = "ols",
        window: int | None = None,
        z_window: int = 60,
        max_points: int = 100_000,
    ) -> PairReport:
        """The server's analysis of ``a`` on ``b``: metrics and the hedge-ratio/spread/z series."""
        import numpy as np
        import pandas as pd

        body = self._get(f"/api/v1/pairs/{a}/{b}", {
            "tf": tf, "start": _time(start), "end": _time(end), "method": method,
            "window": window, "z_window": z_window, "series": "true", "max_points": max_points,
        }).json()  # fmt: skip
        s = body.pop("series")
        index = pd.to_datetime(np.asarray(s.pop("ts"), dtype=np.int64), unit="us", utc=True)
        s.pop("time")
        series = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in s.items()},
                              index=index.rename("time"))  # fmt: skip
        truncated = bool(body.pop("series_truncated"))
        body.pop("series_points", None)
        return PairReport(pd.Series(body, dtype=object), series, truncated)

    def rules(self) -> pd.DataFrame:
        """Alert rules in force, indexed by id."""
        import pandas as pd

        rows = self._get("/api/v1/alerts/rules", {}).json()
        cols = ["id", "name", "summary", "enabled", "severity", "cooldown_seconds", "dedup_seconds",
                "digest_minutes", "quiet_hours", "condition", "webhooks", "telegram",
                "metadata"]  # fmt: skip
        return pd.DataFrame(rows, columns=cols).set_index("id")

    # -- analytics on API data -----------------------------------------------------------------
    def scan(
        self,
        symbols: Sequence[str],
        tf: str = "1m",
        start: TimeLike = None,
        end: TimeLike = None,
        *,
        min_obs: int = 100,
        alpha: float = 0.05,
        min_corr: float | None = None,
    ) -> pd.DataFrame:
        """Rank every pair of ``symbols`` (:func:`statarb.analytics.scan.scan_pairs`).

        Each pair is tested with the earlier symbol of ``symbols`` as the dependent leg.
        """
        from statarb.analytics.scan import scan_pairs

        closes = self.closes(symbols, tf, start, end)
        return scan_pairs(closes, min_obs=min_obs, alpha=alpha, min_corr=min_corr).table

    def backtest(
        self,
        a: str,
        b: str,
        tf: str = "1m",
        start: TimeLike = None,
        end: TimeLike = None,
        *,
        config: BacktestConfig | None = None,
    ) -> BacktestResult:
        """Backtest the pair on the server's bars (:func:`statarb.backtest.run_backtest`).

        Signals at a bar's close fill at the next bar's open; ``result.trades_frame()`` and
        ``result.equity`` hold the outcome.
        """
        from statarb.backtest import run_backtest

        bars = self.bars([a, b], tf, start, end).dropna()
        return run_backtest(bars[(a, "close")], bars[(b, "close")], config=config,
                            index=bars.index, open_y=bars[(a, "open")].to_numpy(),
                            open_x=bars[(b, "open")].to_numpy())  # fmt: skip


__all__ = ["APIError", "Client", "PairReport"]
