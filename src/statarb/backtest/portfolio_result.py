"""The result of a portfolio backtest: book equity, per-pair P&L, trades, legs and tables."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from statarb._typing import Float64Array, Int64Array

if TYPE_CHECKING:
    from statarb.backtest.portfolio import PortfolioConfig

BOOK_EXIT_REASONS = ("signal", "stop", "time_stop", "leg_gone", "end", "settled")


def _clean(v: Any) -> Any:
    if isinstance(v, float | np.floating) and not math.isfinite(v):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


@dataclass(frozen=True)
class PortfolioResult:
    """Book and per-pair results. Bars are indices into the common clock (``times``: epoch µs).

    ``pair_pnl[t, p]`` is pair ``p``'s P&L booked at bar ``t`` (mark to market, costs, funding),
    so ``capital + pair_pnl.sum()`` is the final equity.
    """

    config: PortfolioConfig
    pairs: tuple[str, ...]
    symbols: tuple[str, ...]
    equity: Float64Array = field(repr=False)
    gross: Float64Array = field(repr=False)
    open_pairs: Int64Array = field(repr=False)
    pair_pnl: Float64Array = field(repr=False)
    trade_table: np.ndarray = field(repr=False)
    leg_table: np.ndarray = field(repr=False)
    skipped: dict[str, int]
    metrics: dict[str, Any]
    funding: dict[str, Any]
    times: Int64Array | None = field(repr=False, default=None)

    @classmethod
    def build(
        cls,
        cfg: PortfolioConfig,
        pairs: list[tuple[str, str]],
        symbols: list[str],
        out: tuple[Any, ...],
        *,
        times: Int64Array | None,
        funding: dict[str, Any],
    ) -> PortfolioResult:
        """Assemble the result from the kernel's output and compute the book metrics."""
        from statarb.analytics.rolling import bars_per_year
        from statarb.backtest import _book_kernel as k
        from statarb.backtest.metrics import compute_metrics

        equity, gross, n_open, pnl_rows, trades, legs, skipped = out
        pair_pnl = pnl_rows.T  # (bars, pairs) view of the loop's pair-by-pair rows
        fee, slip = cfg.fee_bps, cfg.slippage_bps
        share = fee / (fee + slip) if fee + slip > 0 else 0.0
        costs = trades[:, k.P_COSTS]
        traded = np.abs(legs[:, k.L_QTY]) * (
            legs[:, k.L_ENTRY_PX] + np.nan_to_num(legs[:, k.L_EXIT_PX])
        )
        metrics = compute_metrics(
            equity,
            {
                "pnl_net": trades[:, k.P_PNL],
                "bars_held": trades[:, k.P_EXIT_BAR] - trades[:, k.P_ENTRY_BAR],
                "fees": costs * share,
                "slippage": costs * (1 - share),
                "funding": trades[:, k.P_FUNDING],
            },
            bars_per_year=bars_per_year(cfg.bar_seconds),
            capital=cfg.capital,
            exposure_bars=int((n_open > 0).sum()),
            traded_notional=float(traded.sum()),
        )
        metrics["max_gross_exposure"] = float(gross.max() / cfg.capital) if len(gross) else 0.0
        metrics["max_open_pairs"] = int(n_open.max()) if len(n_open) else 0
        metrics["in_sample"] = cfg.method == "static"  # a full-sample hedge ratio sees the future
        metrics["funding_charged"] = bool(funding.get("charged"))
        metrics["funding_missing"] = funding.get("missing")
        metrics["funding_flagged"] = funding.get("flagged", False)
        return cls(
            cfg,
            tuple(f"{a}/{b}" for a, b in pairs),
            tuple(symbols),
            equity,
            gross,
            n_open,
            pair_pnl,
            trades,
            legs,
            {
                "max_open": int(skipped[k.S_MAX_OPEN]),
                "gross_cap": int(skipped[k.S_GROSS]),
                "sizing": int(skipped[k.S_SIZE]),
            },
            metrics,
            funding,
            times,
        )

    def _time(self, bars: Any) -> Any:
        import pandas as pd

        b = np.asarray(bars, dtype=np.int64)
        if self.times is None:
            return b
        return pd.to_datetime(self.times[np.clip(b, 0, len(self.times) - 1)], unit="us", utc=True)

    def trades_frame(self) -> Any:
        """One row per pair trade: pair, bars/times, side, z, notional, P&L, costs, funding."""
        import pandas as pd

        from statarb.backtest import _book_kernel as k

        t = self.trade_table
        return pd.DataFrame(
            {
                "pair": [self.pairs[int(p)] for p in t[:, k.P_PAIR]],
                "entry_bar": t[:, k.P_ENTRY_BAR].astype(np.int64),
                "exit_bar": t[:, k.P_EXIT_BAR].astype(np.int64),
                "entry_time": self._time(t[:, k.P_ENTRY_BAR]),
                "exit_time": self._time(t[:, k.P_EXIT_BAR]),
                "side": t[:, k.P_SIDE].astype(np.int64),
                "entry_z": t[:, k.P_ENTRY_Z],
                "exit_z": t[:, k.P_EXIT_Z],
                "notional": t[:, k.P_NOTIONAL],
                "pnl": t[:, k.P_PNL],
                "costs": t[:, k.P_COSTS],
                "funding": t[:, k.P_FUNDING],
                "exit_reason": [BOOK_EXIT_REASONS[int(r)] for r in t[:, k.P_REASON]],
                "time_stop_bars": t[:, k.P_LIMIT].astype(np.int64),
            }
        )

    def legs_frame(self) -> Any:
        """One row per leg of each pair trade (a leg may close before its partner)."""
        import pandas as pd

        from statarb.backtest import _book_kernel as k

        g = self.leg_table
        return pd.DataFrame(
            {
                "pair": [self.pairs[int(p)] for p in g[:, k.L_PAIR]],
                "trade": g[:, k.L_TRADE].astype(np.int64),
                "leg": np.where(g[:, k.L_LEG] == 0, "y", "x"),
                "symbol": [self.symbols[int(s)] for s in g[:, k.L_SYMBOL]],
                "qty": g[:, k.L_QTY],
                "entry_bar": g[:, k.L_ENTRY_BAR].astype(np.int64),
                "exit_bar": g[:, k.L_EXIT_BAR].astype(np.int64),
                "entry_price": g[:, k.L_ENTRY_PX],
                "exit_price": g[:, k.L_EXIT_PX],
                "costs": g[:, k.L_COSTS],
                "funding": g[:, k.L_FUNDING],
                "pnl": g[:, k.L_PNL],
                "exit_reason": [BOOK_EXIT_REASONS[int(r)] for r in g[:, k.L_REASON]],
            }
        )

    def pair_returns(self) -> Any:
        """Per-bar P&L of each pair as a fraction of starting capital (columns: pairs)."""
        import pandas as pd

        idx = self._time(np.arange(len(self.equity))) if self.times is not None else None
        return pd.DataFrame(
            self.pair_pnl / self.config.capital, columns=list(self.pairs), index=idx
        )

    def correlation(self) -> Any:
        """Correlation of the pairs' per-bar returns (NaN for a pair that never traded)."""
        return self.pair_returns().corr()

    def pair_metrics(self) -> Any:
        """Per-pair statistics: P&L, return on capital, Sharpe, drawdown, trades, exits."""
        import pandas as pd

        from statarb.analytics.rolling import bars_per_year
        from statarb.backtest import _book_kernel as k

        root = math.sqrt(bars_per_year(self.config.bar_seconds))
        cap = self.config.capital
        tt = self.trade_table
        rows = []
        for p, name in enumerate(self.pairs):
            r = self.pair_pnl[:, p] / cap
            cum = np.cumsum(r)
            sd = float(r.std(ddof=1)) if len(r) > 1 else math.nan
            mine = tt[tt[:, k.P_PAIR] == p]
            pnl = mine[:, k.P_PNL]
            held = mine[:, k.P_EXIT_BAR] - mine[:, k.P_ENTRY_BAR]
            reasons = mine[:, k.P_REASON].astype(np.int64)
            rows.append(
                {
                    "pair": name,
                    "pnl": float(self.pair_pnl[:, p].sum()),
                    "return_on_capital": float(cum[-1]) if len(cum) else 0.0,
                    "sharpe": float(r.mean() / sd * root) if sd > 0 else math.nan,
                    "max_drawdown": float((cum - np.maximum.accumulate(np.r_[0.0, cum])[1:]).min())
                    if len(cum)
                    else 0.0,
                    "trades": len(mine),
                    "win_rate": float((pnl > 0).mean()) if len(pnl) else math.nan,
                    "avg_bars_held": float(held.mean()) if len(held) else math.nan,
                    "exposure": float(held.sum() / len(r)) if len(r) else math.nan,
                    "costs": float(mine[:, k.P_COSTS].sum()),
                    "funding": float(mine[:, k.P_FUNDING].sum()),
                    "time_stops": int((reasons == k.R_TIME).sum()),
                    "stops": int((reasons == k.R_STOP).sum()),
                }
            )
        return pd.DataFrame(rows)

    def contribution(self) -> Any:
        """Each pair's share of the book's P&L and of its variance, sorted by P&L."""
        pm = self.pair_metrics()[["pair", "pnl", "trades", "sharpe"]].copy()
        total = float(self.pair_pnl.sum())
        pm["share_of_pnl"] = pm["pnl"] / total if total != 0 else math.nan
        book = self.pair_pnl.sum(axis=1)
        var = float(book.var(ddof=1)) if len(book) > 1 else 0.0
        cov = np.array(
            [np.cov(self.pair_pnl[:, p], book, ddof=1)[0, 1] for p in range(len(self.pairs))]
        )
        pm["share_of_risk"] = cov / var if var > 0 else math.nan
        return pm.sort_values("pnl", ascending=False, ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: config, book metrics, skip counts, per-pair metrics and contribution."""
        return {
            "config": self.config.to_dict(),
            "pairs": list(self.pairs),
            "bars": len(self.equity),
            "metrics": {k: _clean(v) for k, v in self.metrics.items()},
            "skipped": self.skipped,
            "funding": self.funding,
            "pair_metrics": [
                {k: _clean(v) for k, v in r.items()} for r in self.pair_metrics().to_dict("records")
            ],
            "contribution": [
                {k: _clean(v) for k, v in r.items()} for r in self.contribution().to_dict("records")
            ],
        }

    def summary(self) -> str:
        """A few lines of text."""
        m = self.metrics
        skipped = ", ".join(f"{v} by {k}" for k, v in self.skipped.items() if v) or "none"
        f = self.funding
        if not f.get("charged"):
            fund = "funding not charged"
        elif not f.get("reconciled"):
            fund = "funding charged from raw rates (not reconciled)"
        else:
            flag = " FLAGGED (>1% missing)" if f["flagged"] else ""
            fund = (
                f"funding events {f['found']}/{f['expected']} found, {f['missing']} missing{flag}"
            )
        warn = "WARNING: full-sample (static) hedge ratios: results are in-sample\n"
        return ("" if not m.get("in_sample") else warn) + (
            f"{len(self.pairs)} pairs, {m['trades']} trades, "
            f"total return {m['total_return']:+.2%}, "
            f"Sharpe {m['sharpe']:.2f}, max drawdown {m['max_drawdown']:.2%}\n"
            f"max gross exposure {m['max_gross_exposure']:.2f}x equity, at most "
            f"{m['max_open_pairs']} pairs open; entries skipped: {skipped}\n{fund}"
        )


__all__ = ["BOOK_EXIT_REASONS", "PortfolioResult"]
