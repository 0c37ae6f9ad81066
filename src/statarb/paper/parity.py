"""Paper trading against the backtester, trade by trade (pure: fills and bars in, a report out).

The paper trader decides at a bar close and fills on the first quote after it; the backtester
decides at the same close and fills at the next bar's open. :func:`compare` lines the two trade
lists up and checks:

- the signals: entry and exit signal bars and sides identical;
- the quantities (both size on the signal bar's closes and hedge ratio);
- the prices: the paper fill against the backtester's fill price moved by the same slippage, in
  bps (positive: paper paid more). The difference is the fill rule's: the quote's side against
  the next bar's first trade, so it must stay within the quoted half-spread plus the slippage.
  Each fill's difference is split into ``spread`` (quote side against its mid), ``move`` (mid
  against the backtester's price) and ``slippage``.

:func:`pair_bars` builds the backtester's bars from the recording's trades the way the book sees
them: bars of both legs at the same open time (the book skips a bar one leg did not trade), with
each leg's next-bar fill price the open of its first own bar after the close.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from statarb._typing import Float64Array, Int64Array
from statarb.analytics.signal_rule import R_END, REASONS
from statarb.backtest import BacktestConfig, BacktestResult
from statarb.backtest._kernel import (
    T_ENTRY_BAR,
    T_ENTRY_X,
    T_ENTRY_Y,
    T_EXIT_BAR,
    T_EXIT_X,
    T_EXIT_Y,
    T_QTY_X,
    T_QTY_Y,
    T_REASON,
    T_SIDE,
)
from statarb.errors import InputError
from statarb.model import QuoteBatch, TickBatch, Timeframe

_CID = re.compile(r"^pa(\d+)-(\d+)-([ocu])([yx])(\d+)$")
_PURPOSE = {"o": "open", "c": "close", "u": "unwind"}
#: float noise allowed on quantities (the tracker's running sums against the batch fit)
QTY_RTOL = 1e-6
#: bps of float noise allowed on top of the bound
BPS_TOL = 1e-6


@dataclass(frozen=True)
class PairBars:
    """One pair's bars on the book's clock: open times, closes, next-bar fill prices per leg."""

    time: Int64Array
    close_y: Float64Array
    close_x: Float64Array
    fill_y: Float64Array
    fill_x: Float64Array
    step: int

    def __len__(self) -> int:
        return len(self.time)

    def until(self, last_time: int) -> PairBars:
        """The bars with open time at or before ``last_time`` (the last bar the book decided)."""
        k = int(np.searchsorted(self.time, last_time, side="right"))
        return PairBars(
            self.time[:k],
            self.close_y[:k],
            self.close_x[:k],
            self.fill_y[:k],
            self.fill_x[:k],
            self.step,
        )


def pair_bars(ticks_y: TickBatch, ticks_x: TickBatch, timeframe: str) -> PairBars:
    """Bars of both legs at the open times both traded, with each leg's next-bar open.

    ``fill_*[t]`` is the open of the leg's first own bar at or after the end of bar ``t - 1``
    (its first trade after the close at which bar ``t - 1`` decided): the backtester's next-bar
    fill price on the leg's own tape.
    """
    from statarb.bars import resample

    step = Timeframe.parse(timeframe).us
    by = resample(ticks_y, timeframe)
    bx = resample(ticks_x, timeframe)
    common, iy, ix = np.intersect1d(by.open_time, bx.open_time, return_indices=True)
    if len(common) < 3:
        raise InputError(f"the legs share {len(common)} bars of {timeframe}; need at least 3")
    ends = np.empty_like(common)
    ends[0] = common[0]
    ends[1:] = common[:-1] + step
    fill = []
    for b in (by, bx):
        k = np.minimum(np.searchsorted(b.open_time, ends, side="left"), len(b) - 1)
        fill.append(b.open[k])
    return PairBars(common, by.close[iy], bx.close[ix], fill[0], fill[1], step)


def backtest_config(
    tracker: dict[str, Any], paper: dict[str, Any], bar_seconds: float
) -> BacktestConfig:
    """The backtester's settings for a book pair's tracker settings and its paper strategy.

    Rolling OLS over the tracker's ``window`` (fit before the bar), z over its ``z_window``,
    the strategy's bands, stops, fixed gross notional, fee and slippage; the time stop's
    half-life over the tracker's ``window`` transitions, as the tracker measures it.
    """
    method = tracker.get("method", "rolling-ols")
    if method != "rolling-ols":
        raise InputError(f"parity compares the rolling-ols hedge only, got method={method!r}")
    return BacktestConfig(
        time_stop=paper.get("time_stop"),
        half_life_window=int(tracker.get("window", 120)),
        entry=paper["entry"],
        exit=paper["exit"],
        stop=paper.get("stop"),
        max_hold=paper.get("max_hold"),
        window=int(tracker.get("z_window", 60)),
        hedge_window=int(tracker.get("window", 120)),
        method="rolling-ols",
        capital=paper["notional"],
        fee_bps=paper["fee_bps"],
        slippage_bps=paper["slippage_bps"],
        bar_seconds=bar_seconds,
    )


@dataclass(frozen=True)
class FillCheck:
    """One leg's fill, paper against backtest."""

    trade: int
    action: str  #: "entry" or "exit"
    leg: str
    symbol: str
    side: int  #: 1 buy, -1 sell
    paper_qty: float
    backtest_qty: float
    paper_price: float
    backtest_price: float  #: next-bar open moved by the slippage
    diff_bps: float  #: signed against the order: positive = paper paid more
    spread_bps: float  #: quote side against its mid (NaN without the quote)
    move_bps: float  #: the quote's mid against the backtester's next-bar open
    slippage_bps: float
    half_spread_bps: float
    bound_bps: float
    within: bool
    source: str


@dataclass(frozen=True)
class TradeCheck:
    """One round trip, paper against backtest (times are signal-bar open times, µs)."""

    trade: int
    status: str  #: "match", "mismatch", "paper only", "backtest only"
    side_paper: int
    side_backtest: int
    entry_paper: int | None
    entry_backtest: int | None
    exit_paper: int | None
    exit_backtest: int | None
    reason: str
    qty_y_paper: float
    qty_y_backtest: float
    qty_x_paper: float
    qty_x_backtest: float


@dataclass(frozen=True)
class ParityReport:
    """Trade-by-trade parity of a paper run and the backtest of the same bars."""

    trades: list[TradeCheck]
    fills: list[FillCheck]
    bars: int
    excluded: int  #: paper entries on the last two bars (the backtester takes none there)
    signals_identical_pct: float
    fills_within_pct: float
    diff_median_bps: float
    diff_p95_bps: float
    diff_max_bps: float
    bound_median_bps: float
    passed: bool
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (NaN as None)."""
        return _clean(asdict(self))

    def summary(self) -> str:
        """A few lines for a terminal."""
        n = sum(1 for t in self.trades if t.status != "paper only")
        return (
            f"{'PASS' if self.passed else 'FAIL'}: {len(self.trades)} trades ({n} in the "
            f"backtest) over {self.bars} bars; signals identical "
            f"{self.signals_identical_pct:.1f}%\n"
            f"fill-price difference (bps, paper - backtest, against the order): median "
            f"{self.diff_median_bps:.4f}, p95 {self.diff_p95_bps:.4f}, max |d| "
            f"{self.diff_max_bps:.4f}; bound (half-spread + slippage) median "
            f"{self.bound_median_bps:.4f}; within {self.fills_within_pct:.1f}% of "
            f"{len(self.fills)} fills"
        )


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


@dataclass
class _PaperTrade:
    side: int
    entry: int
    qty: dict[str, float]
    fills: dict[tuple[str, str], dict[str, Any]]
    exit: int | None = None
    unwound: bool = False


def paper_trades(fills: list[dict[str, Any]]) -> list[_PaperTrade]:
    """Round trips from fill rows (client ids carry the signal bar and the purpose)."""
    out: list[_PaperTrade] = []
    for f in sorted(fills, key=lambda r: (r["ts"], r["client_id"])):
        m = _CID.match(str(f["client_id"]))
        if m is None:
            raise InputError(f"fill {f['client_id']!r} is not a paper order's fill")
        signal, purpose, leg = int(m.group(2)), _PURPOSE[m.group(3)], m.group(4)
        qty = float(f["side"]) * float(f["qty"])
        if purpose == "open":
            if not out or out[-1].entry != signal:
                out.append(_PaperTrade(0, signal, {"y": 0.0, "x": 0.0}, {}))
            t = out[-1]
            t.qty[leg] += qty
            t.side = int(np.sign(t.qty["y"])) or t.side
        elif out:
            t = out[-1]
            t.exit, t.unwound = signal, t.unwound or purpose == "unwind"
        else:
            continue
        t.fills[("entry" if purpose == "open" else "exit", leg)] = f
    return out


def _half_spread_bps(q: QuoteBatch | None, ts: int) -> tuple[float, float]:
    """Half the quoted spread (bps of mid) and the mid of the first quote at ``ts``."""
    if q is None or not len(q):
        return math.nan, math.nan
    i = int(np.searchsorted(q.ts, ts, side="left"))
    if i >= len(q) or int(q.ts[i]) != ts:
        return math.nan, math.nan
    bid, ask = float(q.bid[i]), float(q.ask[i])
    return (ask - bid) / (ask + bid) * 1e4, (ask + bid) / 2


def _fill_check(
    n: int,
    action: str,
    leg: str,
    side: int,
    f: dict[str, Any],
    bt_qty: float,
    bt_open: float,
    quotes: QuoteBatch | None,
    slippage_bps: float,
    default_hs: float,
) -> FillCheck:
    slip = slippage_bps / 1e4
    price, base = float(f["price"]), float(f["base"])
    bt = bt_open * (1 + side * slip)
    hs, mid = _half_spread_bps(quotes, int(f["ts"])) if f["source"] == "quote" else (math.nan,) * 2
    spread = side * (base - mid) / mid * 1e4 if math.isfinite(mid) else math.nan
    move = side * (mid - bt_open) / bt_open * 1e4 if math.isfinite(mid) else math.nan
    if not math.isfinite(hs):
        hs = default_hs
    diff = side * (price - bt) / bt * 1e4
    bound = hs + slippage_bps
    return FillCheck(
        n,
        action,
        leg,
        str(f["symbol"]),
        side,
        float(f["qty"]),
        abs(bt_qty),
        price,
        bt,
        diff,
        spread,
        move,
        side * (price - base) / base * 1e4,
        hs,
        bound,
        abs(diff) <= bound + BPS_TOL,
        str(f["source"]),
    )


def compare(
    fills: list[dict[str, Any]],
    bars: PairBars,
    result: BacktestResult,
    *,
    quotes: dict[str, QuoteBatch] | None = None,
    slippage_bps: float,
    half_spread_bps: float,
) -> ParityReport:
    """Line up the paper round trips of ``fills`` with the backtest ``result`` of ``bars``.

    Parameters
    ----------
    fills
        The paper fills of one pair (store rows or :meth:`Fill.to_dict`).
    bars
        The bars the backtest ran on (:func:`pair_bars`, cut at the book's last decided bar).
    result
        :func:`statarb.backtest.run_backtest` on ``bars`` (``open_y``/``open_x`` = the fills).
    quotes
        The recording's quotes per symbol, to split each difference and read its half-spread.
    slippage_bps, half_spread_bps
        The strategy's slippage, and the half-spread assumed for fills on trades.
    """
    n = len(bars)
    last_entry = int(bars.time[n - 2]) if n >= 2 else 0
    paper = [t for t in paper_trades(fills) if t.entry < last_entry]
    excluded = len(paper_trades(fills)) - len(paper)
    tb = result.trade_table
    trades: list[TradeCheck] = []
    checks: list[FillCheck] = []
    quotes = quotes or {}
    for i in range(max(len(paper), len(tb))):
        p = paper[i] if i < len(paper) else None
        r = tb[i] if i < len(tb) else None
        trades.append(_trade_check(i, p, r, bars))
        if p is None or r is None or trades[-1].status != "match":
            continue
        for action, leg, col_q, col_p in (
            ("entry", "y", T_QTY_Y, T_ENTRY_Y),
            ("entry", "x", T_QTY_X, T_ENTRY_X),
            ("exit", "y", T_QTY_Y, T_EXIT_Y),
            ("exit", "x", T_QTY_X, T_EXIT_X),
        ):
            f = p.fills.get((action, leg))
            if f is None or (
                action == "exit" and int(r[T_REASON]) == R_END
            ):  # the backtest's end close
                continue
            q = float(r[col_q])
            side = int(np.sign(q)) * (1 if action == "entry" else -1)
            sym = str(f["symbol"])
            checks.append(
                _fill_check(
                    i,
                    action,
                    leg,
                    side,
                    f,
                    q,
                    float(r[col_p]),
                    quotes.get(sym),
                    slippage_bps,
                    half_spread_bps,
                )
            )
    return _report(trades, checks, n, excluded)


def _trade_check(i: int, p: _PaperTrade | None, r: np.ndarray | None, bars: PairBars) -> TradeCheck:
    nan = math.nan
    if r is None:
        assert p is not None
        return TradeCheck(
            i,
            "paper only",
            p.side,
            0,
            p.entry,
            None,
            p.exit,
            None,
            "",
            p.qty["y"],
            nan,
            p.qty["x"],
            nan,
        )
    e_bar, x_bar, reason = int(r[T_ENTRY_BAR]), int(r[T_EXIT_BAR]), int(r[T_REASON])
    bt_entry = int(bars.time[e_bar - 1])
    bt_exit = None if reason == R_END else int(bars.time[x_bar - 1])
    why = REASONS.get(reason, str(reason))
    if p is None:
        return TradeCheck(
            i,
            "backtest only",
            0,
            int(r[T_SIDE]),
            None,
            bt_entry,
            None,
            bt_exit,
            why,
            nan,
            float(r[T_QTY_Y]),
            nan,
            float(r[T_QTY_X]),
        )
    same_exit = p.exit == bt_exit or (
        bt_exit is None and (p.exit is None or p.exit >= int(bars.time[-1]))
    )
    same_qty = all(
        math.isclose(p.qty[k], float(r[c]), rel_tol=QTY_RTOL)
        for k, c in (("y", T_QTY_Y), ("x", T_QTY_X))
    )
    ok = (
        p.entry == bt_entry
        and p.side == int(r[T_SIDE])
        and same_exit
        and same_qty
        and not p.unwound
    )
    return TradeCheck(
        i,
        "match" if ok else "mismatch",
        p.side,
        int(r[T_SIDE]),
        p.entry,
        bt_entry,
        p.exit,
        bt_exit,
        why,
        p.qty["y"],
        float(r[T_QTY_Y]),
        p.qty["x"],
        float(r[T_QTY_X]),
    )


def _report(
    trades: list[TradeCheck], checks: list[FillCheck], n: int, excluded: int
) -> ParityReport:
    same = sum(1 for t in trades if t.status == "match")
    pct = 100.0 * same / len(trades) if trades else math.nan
    d = np.array([c.diff_bps for c in checks])
    bound = np.array([c.bound_bps for c in checks])
    within = 100.0 * sum(c.within for c in checks) / len(checks) if checks else math.nan
    nan = math.nan
    return ParityReport(
        trades=trades,
        fills=checks,
        bars=n,
        excluded=excluded,
        signals_identical_pct=pct,
        fills_within_pct=within,
        diff_median_bps=float(np.median(d)) if len(d) else nan,
        diff_p95_bps=float(np.percentile(d, 95)) if len(d) else nan,
        diff_max_bps=float(np.abs(d).max()) if len(d) else nan,
        bound_median_bps=float(np.median(bound)) if len(bound) else nan,
        passed=bool(trades) and same == len(trades) and all(c.within for c in checks),
    )


def trade_table(report: ParityReport) -> list[str]:
    """The report as fixed-width lines: one per trade, then one per fill."""
    from statarb.timeutil import us_to_iso

    def t(v: int | None) -> str:
        return "-" if v is None else us_to_iso(v)[11:23]

    lines = [
        f"{'#':>3} {'status':<13} {'side p/b':>8} {'entry paper':>12} {'entry bt':>12} "
        f"{'exit paper':>12} {'exit bt':>12} {'reason':<9} {'qty y paper':>12} "
        f"{'qty y bt':>12}"
    ]
    for r in report.trades:
        lines.append(
            f"{r.trade:>3} {r.status:<13} {r.side_paper:>4}/{r.side_backtest:<3} "
            f"{t(r.entry_paper):>12} {t(r.entry_backtest):>12} {t(r.exit_paper):>12} "
            f"{t(r.exit_backtest):>12} {r.reason:<9} {r.qty_y_paper:>12.6g} "
            f"{r.qty_y_backtest:>12.6g}"
        )
    lines.append(
        f"{'#':>3} {'fill':<9} {'symbol':<10} {'side':>4} {'paper':>12} {'backtest':>12} "
        f"{'diff bps':>9} {'spread':>8} {'move':>8} {'slip':>6} {'bound':>7} ok"
    )
    for c in report.fills:
        lines.append(
            f"{c.trade:>3} {c.action + ' ' + c.leg:<9} {c.symbol:<10} {c.side:>4} "
            f"{c.paper_price:>12.6g} {c.backtest_price:>12.6g} {c.diff_bps:>9.4f} "
            f"{c.spread_bps:>8.4f} {c.move_bps:>8.4f} {c.slippage_bps:>6.3f} "
            f"{c.bound_bps:>7.4f} {'yes' if c.within else 'NO'}"
        )
    return lines


__all__ = [
    "FillCheck",
    "PairBars",
    "ParityReport",
    "TradeCheck",
    "backtest_config",
    "compare",
    "pair_bars",
    "paper_trades",
    "trade_table",
]
