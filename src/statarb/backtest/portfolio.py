"""``run_portfolio``: a book of pairs on one clock with shared capital, caps and sizing."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np

from statarb._typing import Float64Array, Int64Array
from statarb.backtest.config import HEDGE_MODES, BacktestConfig, HedgeMode
from statarb.backtest.engine import bar_times
from statarb.backtest.portfolio_result import PortfolioResult
from statarb.errors import InputError

Sizing = Literal["equal", "inverse-vol", "risk"]
SIZINGS: tuple[str, ...] = ("equal", "inverse-vol", "risk")


@dataclass(frozen=True)
class PortfolioConfig:
    """Rules, sizing and limits of a book of pairs (every pair trades the same rules).

    Attributes
    ----------
    entry, exit, stop, window, method, hedge_window
        As in :class:`~statarb.backtest.BacktestConfig`: z-score bands, z window and the hedge
        ratio estimator (data before each bar only).
    time_stop
        Close a trade after ``time_stop`` half-lives, the half-life measured on the spread over
        ``half_life_window`` bars ending at the signal bar (fixed at entry).
    sizing, size
        ``"equal"``: gross notional ``size * equity`` per pair; ``"inverse-vol"``: notional such
        that the pair's per-bar P&L volatility is ``size * equity`` (rolling std of spread
        returns over ``window``); ``"risk"``: notional such that hitting ``stop`` loses
        ``size * equity`` (needs ``stop``).
    pair_cap, gross_cap
        Gross notional of one pair, and gross exposure of the book with legs shared across
        pairs netted per symbol, as multiples of equity (``None``: no cap).
    max_open
        Most pairs open (or ordered) at once; candidates of the same bar rank by ``|z|``.
    capital, fee_bps, slippage_bps, bar_seconds
        Starting equity, costs per leg in basis points of traded notional, bar length.
    """

    entry: float = 2.0
    exit: float = 0.0
    stop: float | None = None
    window: int = 60
    method: HedgeMode = "rolling-ols"
    hedge_window: int | None = None
    time_stop: float | None = None
    half_life_window: int = 500
    sizing: Sizing = "equal"
    size: float = 0.1
    pair_cap: float | None = 0.25
    gross_cap: float | None = 2.0
    max_open: int | None = 10
    capital: float = 100_000.0
    fee_bps: float = 4.0
    slippage_bps: float = 1.0
    bar_seconds: float = 60.0

    def __post_init__(self) -> None:
        self.signal_config()  # validates the shared rules
        if self.sizing not in SIZINGS:
            raise InputError(f"sizing must be one of {', '.join(SIZINGS)}, got {self.sizing!r}")
        if self.sizing == "risk" and self.stop is None:
            raise InputError("sizing='risk' needs a stop (the loss it sizes against)")
        if not (math.isfinite(self.size) and self.size > 0):
            raise InputError(f"size must be positive, got {self.size!r}")
        for name in ("pair_cap", "gross_cap", "time_stop"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise InputError(f"{name} must be positive or None, got {v!r}")
        if self.max_open is not None and self.max_open < 1:
            raise InputError(f"max_open must be at least 1 or None, got {self.max_open!r}")
        if self.half_life_window < 10:
            raise InputError(f"half_life_window must be at least 10, got {self.half_life_window!r}")

    def signal_config(self) -> BacktestConfig:
        """The single-pair config that builds each pair's hedge ratio and z-score."""
        if self.method not in HEDGE_MODES:
            raise InputError(f"method must be one of {', '.join(HEDGE_MODES)}, got {self.method!r}")
        return BacktestConfig(
            entry=self.entry,
            exit=self.exit,
            stop=self.stop,
            window=self.window,
            method=self.method,
            hedge_window=self.hedge_window,
            capital=self.capital,
            fee_bps=self.fee_bps,
            slippage_bps=self.slippage_bps,
            bar_seconds=self.bar_seconds,
        )

    def with_(self, **changes: Any) -> PortfolioConfig:
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return asdict(self)


def parse_pairs(pairs: Sequence[Any]) -> list[tuple[str, str]]:
    """``[("A", "B"), "C/D", ...]`` -> ``[("A", "B"), ("C", "D")]`` (y first, as named)."""
    out = []
    for i, p in enumerate(pairs):
        if isinstance(p, str):
            a, _, b = p.partition("/")
        else:
            try:
                a, b = p
            except (TypeError, ValueError):
                a, b = "", ""
        a, b = str(a).strip(), str(b).strip()
        if not a or not b or a == b:
            raise InputError(
                f"pairs[{i}] = {p!r}: give two different symbols, e.g. 'AVAXUSDT/LINKUSDT'"
            )
        out.append((a, b))
    if not out:
        raise InputError("pairs is empty")
    if len(set(out)) != len(out):
        raise InputError("pairs has duplicates")
    return out


def _matrix(prices: Any, symbols: list[str], name: str, n: int | None = None) -> Float64Array:
    """(symbols, bars) float matrix from a DataFrame or a mapping of arrays (a row per symbol)."""
    rows = []
    for s in symbols:
        try:
            col = prices[s]
        except (KeyError, IndexError):
            raise InputError(f"{name} has no column {s!r}") from None
        arr = np.asarray(col.to_numpy() if hasattr(col, "to_numpy") else col, dtype=np.float64)
        if arr.ndim != 1:
            raise InputError(f"{name}[{s!r}] must be one-dimensional")
        rows.append(arr)
    lengths = {len(c) for c in rows}
    if len(lengths) != 1 or (n is not None and lengths != {n}):
        raise InputError(f"{name} columns must all have {n or 'the same number of'} bars")
    return np.vstack(rows)


def _funding(funding: Any, symbols: list[str], n: int) -> tuple[Float64Array, dict[str, Any]]:
    """The kernel's funding matrix and what the result says about it."""
    from statarb.backtest.funding import FundingSchedule, funding_matrix

    if funding is None:
        return np.empty((0, 0)), {"charged": False}
    if isinstance(funding, Mapping) and all(
        isinstance(v, FundingSchedule) for v in funding.values()
    ):
        mat, report = funding_matrix(funding, symbols)
        if mat.shape[1] != n:
            raise InputError(f"funding schedules have {mat.shape[1]} bars for {n} price bars")
        return mat, {"charged": True, "reconciled": True, **report}
    mat = _matrix(funding, symbols, "funding", n)
    if not np.isfinite(mat).all():
        raise InputError("funding has non-finite rates; reconcile them with funding_per_bar")
    return mat, {"charged": True, "reconciled": False}


def _end_bars(close: Float64Array, symbols: list[str]) -> Int64Array:
    """First bar each symbol no longer trades: trailing NaNs mark a delisting; others are errors."""
    n = close.shape[1]
    ends = np.full(len(symbols), n, dtype=np.int64)
    for j, s in enumerate(symbols):
        ok = np.isfinite(close[j]) & (close[j] > 0)
        if not ok.any():
            raise InputError(f"prices[{s!r}] has no valid price")
        last = int(np.flatnonzero(ok)[-1])
        bad = np.flatnonzero(~ok[: last + 1])
        if len(bad):
            raise InputError(
                f"prices[{s!r}] has a missing or non-positive price at bar {int(bad[0])}; "
                "only trailing gaps (a delisting) are allowed"
            )
        ends[j] = last + 1
    return ends


def _signals(
    y: Float64Array, x: Float64Array, cfg: BacktestConfig
) -> tuple[Float64Array, Float64Array, Float64Array]:
    """``signal_inputs``' hedge ratio, spread and z-score; the z-score taken over the spread's
    finite stretch after the hedge warm-up (the same numbers, on the compiled path)."""
    from statarb.analytics.spread import zscore
    from statarb.backtest.hedge import hedge_path, signal_inputs

    beta, alpha, _ = hedge_path(y, x, cfg)
    spread = y - (beta * x + alpha)
    ok = np.isfinite(spread)
    first = int(np.argmax(ok)) if ok.any() else len(y)
    if first == len(y) or not ok[first:].all() or len(y) - first < cfg.window:
        b, _, sp, z, _ = signal_inputs(y, x, cfg)
        return b, sp, z
    z = np.full(len(y), np.nan)
    z[first:] = zscore(spread[first:], window=cfg.window)
    return beta, spread, z


def _pair_inputs(
    y: Float64Array, x: Float64Array, end: int, cfg: PortfolioConfig
) -> tuple[Float64Array, Float64Array, Float64Array, Float64Array]:
    """``(beta, z, scale, limit)`` of one pair over bars ``[0, end)``, NaN/0 after."""
    from statarb.analytics.ou import rolling_half_life

    n = len(y)
    beta, z, scale, limit = np.full(n, np.nan), np.full(n, np.nan), np.ones(n), np.zeros(n)
    if end < cfg.window + 2:
        return beta, z, scale, limit
    yy, xx = y[:end], x[:end]
    b, spread, zz = _signals(yy, xx, cfg.signal_config())
    beta[:end], z[:end] = b, zz
    if cfg.sizing != "equal":
        import pandas as pd

        unit = np.abs(yy) + np.abs(b) * np.abs(xx)
        if cfg.sizing == "inverse-vol":
            r = pd.Series(np.diff(spread, prepend=np.nan) / np.r_[np.nan, unit[:-1]])
        else:
            r = pd.Series(spread)
        sd = r.rolling(cfg.window).std().to_numpy()
        scale[:end] = sd / unit if cfg.sizing == "risk" else sd
    if cfg.time_stop is not None:
        hl = rolling_half_life(spread, window=min(cfg.half_life_window, end - 2))
        lim = np.ceil(cfg.time_stop * hl)
        limit[:end] = np.where(np.isfinite(lim) & (lim >= 1), lim, 0.0)
    return beta, z, scale, limit


def run_portfolio(
    pairs: Sequence[Any],
    prices: Any,
    *,
    config: PortfolioConfig | None = None,
    opens: Any = None,
    funding: Any = None,
    index: Any = None,
    start_bar: int = 0,
) -> PortfolioResult:
    """Backtest a book of pairs traded on one clock with shared capital.

    Parameters
    ----------
    pairs
        ``("Y", "X")`` tuples or ``"Y/X"`` strings; the first symbol is the traded ``y`` leg.
    prices
        Closes per symbol on one clock: a DataFrame (columns are symbols) or a mapping of
        equal-length arrays. Trailing NaNs mark a symbol that stopped trading: its open legs are
        settled at its last close and the pair's other leg is closed at the next bar.
    config
        :class:`PortfolioConfig`.
    opens
        Next-bar fill prices per symbol (same shape); default: fill at the next close.
    funding
        Per symbol, a :class:`~statarb.backtest.funding.FundingSchedule` (from
        :func:`~statarb.backtest.funding.funding_per_bar`: the result then reports the funding
        events found and missing, flagged above 1%), or raw per-bar rates (reported as not
        reconciled). A long pays ``rate * notional`` at the bar's close. ``None``: no funding,
        and the result says so.
    index
        Bar times (UTC DatetimeIndex or epoch µs) for the trade log.
    start_bar
        No decision before this bar.
    """
    from statarb.backtest import _book_kernel as k

    cfg = config or PortfolioConfig()
    plist = parse_pairs(pairs)
    symbols = sorted({s for p in plist for s in p})
    close = _matrix(prices, symbols, "prices")
    n = close.shape[1]
    if n < cfg.window + 3:
        raise InputError(f"{n} bars are too few for window={cfg.window}")
    ends = _end_bars(close, symbols)
    for j in range(len(symbols)):  # carry the last price over a delisted tail (never traded)
        close[j, ends[j] :] = close[j, ends[j] - 1]
    fill = close
    if opens is not None:
        fill = _matrix(opens, symbols, "opens", n)
        tail = np.arange(n)[None, :] >= ends[:, None]
        fill = np.where(tail, close, fill)
        if not (np.isfinite(fill) & (fill > 0)).all():
            raise InputError("opens has a missing or non-positive price before a symbol's end")
    fund, funding_report = _funding(funding, symbols, n)
    col = {s: j for j, s in enumerate(symbols)}
    leg_sym = np.array([[col[a], col[b]] for a, b in plist], dtype=np.int64)
    n_pair = len(plist)
    beta, z = np.empty((n_pair, n)), np.empty((n_pair, n))
    unused = np.empty((0, 0))
    scale = np.empty((n_pair, n)) if cfg.sizing != "equal" else unused
    limit = np.empty((n_pair, n)) if cfg.time_stop is not None else unused
    for p, (a, b) in enumerate(plist):
        end = int(min(ends[col[a]], ends[col[b]]))
        bp, zp, sp, lp = _pair_inputs(close[col[a]], close[col[b]], end, cfg)
        beta[p], z[p] = bp, zp
        if scale.size:
            scale[p] = sp
        if limit.size:
            limit[p] = lp
    prm = np.zeros(k.N_PARAMS)
    prm[k.K_ENTRY], prm[k.K_EXIT], prm[k.K_STOP] = cfg.entry, cfg.exit, cfg.stop or 0.0
    prm[k.K_CAPITAL] = cfg.capital
    prm[k.K_FEE], prm[k.K_SLIP] = cfg.fee_bps / 1e4, cfg.slippage_bps / 1e4
    prm[k.K_PAIR_CAP], prm[k.K_GROSS_CAP] = cfg.pair_cap or 0.0, cfg.gross_cap or 0.0
    prm[k.K_MAX_OPEN] = cfg.max_open or 0
    prm[k.K_SIZING] = SIZINGS.index(cfg.sizing)
    prm[k.K_SIZE], prm[k.K_START] = cfg.size, start_bar
    out = k.book_kernel(close, fill, leg_sym, ends, beta, z, scale, limit, fund, prm)
    return PortfolioResult.build(
        cfg, plist, symbols, out, times=bar_times(index, n), funding=funding_report
    )


__all__ = ["SIZINGS", "PortfolioConfig", "Sizing", "parse_pairs", "run_portfolio"]
