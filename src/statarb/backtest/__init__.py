"""Honest pairs backtests: no look-ahead, next-bar fills, costs, metrics, sweeps, walk-forward."""

from statarb.backtest.config import HEDGE_MODES, BacktestConfig
from statarb.backtest.engine import run_backtest
from statarb.backtest.metrics import compute_metrics, drawdown
from statarb.backtest.result import TRADE_COLUMNS, BacktestResult, Trade
from statarb.backtest.sweep import WalkForwardResult, sweep, walk_forward

__all__ = [
    "HEDGE_MODES",
    "TRADE_COLUMNS",
    "BacktestConfig",
    "BacktestResult",
    "Trade",
    "WalkForwardResult",
    "compute_metrics",
    "drawdown",
    "run_backtest",
    "sweep",
    "walk_forward",
]
