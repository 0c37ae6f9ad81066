"""Backtest results: equity, drawdown, positions, the trade log and metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from statarb._typing import Float64Array, Int64Array
from statarb.backtest.config import BacktestConfig

EXIT_REASONS = ("signal", "stop", "max_hold", "end", "ruin", "time_stop")
TRADE_COLUMNS = (
    "entry_time",
    "exit_time",
    "side",
    "qty_y",
    "qty_x",
    "entry_price_y",
    "entry_price_x",
    "exit_price_y",
    "exit_price_x",
    "hedge_ratio",
    "entry_z",
    "exit_z",
    "pnl_gross",
    "costs",
    "funding",
    "pnl_net",
    "bars_held",
    "exit_reason",
    "break_even_z",
)


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip of the spread.

    ``side`` +1 is long the spread (long y, short beta units of x per unit of y); ``break_even_z``
    is the trade's round-trip cost in z units at its signal bar.
    """

    entry_bar: int
    exit_bar: int
    entry_time: int | None
    exit_time: int | None
    side: int
    qty_y: float
    qty_x: float
    entry_price_y: float
    entry_price_x: float
    exit_price_y: float
    exit_price_x: float
    hedge_ratio: float
    entry_z: float
    exit_z: float
    pnl_gross: float
    costs: float
    funding: float
    pnl_net: float
    bars_held: int
    exit_reason: str
    break_even_z: float


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass(frozen=True)
class BacktestResult:
    """Everything a backtest produced. Times are epoch µs when an index was given."""

    config: BacktestConfig
    equity: Float64Array = field(repr=False)
    zscore: Float64Array = field(repr=False)
    hedge_ratio: Float64Array = field(repr=False)
    times: Int64Array | None = field(repr=False)
    trade_table: np.ndarray = field(repr=False)
    metrics: dict[str, Any]
    in_sample: bool
    round_trip_cost: float
    break_even_z: float
    skipped_trades: int = 0
    ruin_bar: int | None = None

    @property
    def ruined(self) -> bool:
        """True when equity reached zero or less and the run stopped trading at ``ruin_bar``."""
        return self.ruin_bar is not None

    @cached_property
    def drawdown(self) -> Float64Array:
        """Drawdown per bar from the running peak, the starting capital the first peak."""
        from statarb.backtest.metrics import drawdown

        return drawdown(self.equity, self.config.capital)

    @cached_property
    def qty_y(self) -> Float64Array:
        """Quantity of leg ``y`` held at each bar's close."""
        from statarb.backtest import _kernel as k

        return positions(self.trade_table, len(self.equity), k.T_QTY_Y)

    @cached_property
    def qty_x(self) -> Float64Array:
        """Quantity of leg ``x`` held at each bar's close."""
        from statarb.backtest import _kernel as k

        return positions(self.trade_table, len(self.equity), k.T_QTY_X)

    @cached_property
    def trades(self) -> list[Trade]:
        """The trade log (built on first use)."""
        return build_trades(self.trade_table, self.times)

    def trades_frame(self) -> Any:
        """The trade log as a DataFrame (times as UTC timestamps when known)."""
        import pandas as pd

        rows = [{c: getattr(t, c) for c in TRADE_COLUMNS} for t in self.trades]
        frame = pd.DataFrame(rows, columns=list(TRADE_COLUMNS))
        if self.times is not None:
            for c in ("entry_time", "exit_time"):
                frame[c] = pd.to_datetime(frame[c].astype("int64"), unit="us", utc=True)
        return frame

    def equity_frame(self) -> Any:
        """Equity, drawdown, z-score, hedge ratio and leg quantities per bar."""
        import pandas as pd

        idx = None
        if self.times is not None:
            idx = pd.DatetimeIndex(self.times.astype("datetime64[us]"), name="time").tz_localize(
                "UTC"
            )
        return pd.DataFrame(
            {
                "equity": self.equity,
                "drawdown": self.drawdown,
                "zscore": self.zscore,
                "hedge_ratio": self.hedge_ratio,
                "qty_y": self.qty_y,
                "qty_x": self.qty_x,
            },
            index=idx,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: metrics, config, flags and cost awareness (no per-bar arrays)."""
        return {
            "metrics": {k: _clean(v) for k, v in self.metrics.items()},
            "config": self.config.to_dict(),
            "in_sample": self.in_sample,
            "round_trip_cost": _clean(self.round_trip_cost),
            "break_even_z": _clean(self.break_even_z),
            "skipped_trades": self.skipped_trades,
            "ruined": self.ruined,
            "ruin_bar": self.ruin_bar,
            "bars": len(self.equity),
        }

    def summary(self) -> str:
        """A few lines of text."""
        m = self.metrics
        lines = []
        if self.in_sample:
            lines.append("WARNING: full-sample (static) hedge ratio: results are in-sample")
        if self.ruined:
            lines.append(
                f"RUINED: equity reached {self.equity[self.ruin_bar]:,.2f} at bar {self.ruin_bar}; "
                "the position was closed there and the run stopped trading"
            )
        lines.append(
            f"{m['trades']} trades, total return {m['total_return']:+.2%}, "
            f"Sharpe {m['sharpe']:.2f}, max drawdown {m['max_drawdown']:.2%}"
        )
        lines.append(
            f"win rate {m['win_rate']:.1%}, profit factor {m['profit_factor']:.2f}, "
            f"costs {m['fees'] + m['slippage']:,.2f}"
        )
        if math.isfinite(self.break_even_z):
            warn = (
                " (entry band too narrow to pay costs)"
                if self.break_even_z > self.config.entry
                else ""
            )
            lines.append(
                f"round-trip cost {self.round_trip_cost:.4g} spread units = "
                f"{self.break_even_z:.2f} z{warn}"
            )
        return "\n".join(lines)


def positions(table: np.ndarray, n: int, column: int) -> Float64Array:
    """Per-bar quantity from the trade table: each trade holds ``column`` on [entry, exit)."""
    from statarb.backtest import _kernel as k

    step = np.zeros(n + 1)
    q = table[:, column]
    np.add.at(step, table[:, k.T_ENTRY_BAR].astype(np.int64), q)
    np.add.at(step, table[:, k.T_EXIT_BAR].astype(np.int64), -q)
    return np.cumsum(step[:n])


def build_trades(table: np.ndarray, times: Int64Array | None) -> list[Trade]:
    """Trade objects from the kernel's trade table."""
    from statarb.backtest import _kernel as k

    out = []
    for r in table.tolist():
        eb, xb = int(r[k.T_ENTRY_BAR]), int(r[k.T_EXIT_BAR])
        net = r[k.T_GROSS] - r[k.T_COSTS] + r[k.T_FUNDING]
        out.append(
            Trade(
                eb,
                xb,
                None if times is None else int(times[eb]),
                None if times is None else int(times[xb]),
                int(r[k.T_SIDE]),
                r[k.T_QTY_Y],
                r[k.T_QTY_X],
                r[k.T_ENTRY_Y],
                r[k.T_ENTRY_X],
                r[k.T_EXIT_Y],
                r[k.T_EXIT_X],
                r[k.T_BETA],
                r[k.T_ENTRY_Z],
                r[k.T_EXIT_Z],
                r[k.T_GROSS],
                r[k.T_COSTS],
                r[k.T_FUNDING],
                net,
                xb - eb,
                EXIT_REASONS[int(r[k.T_REASON])],
                r[k.T_BE_Z],
            )
        )
    return out


__all__ = ["EXIT_REASONS", "TRADE_COLUMNS", "BacktestResult", "Trade", "build_trades", "positions"]
