"""Honest pairs backtests: no look-ahead, next-bar fills, costs, metrics, sweeps, walk-forward."""

from statarb.backtest.config import HEDGE_MODES, BacktestConfig
from statarb.backtest.engine import run_backtest
from statarb.backtest.metrics import compute_metrics, drawdown
from statarb.backtest.overfit import deflated_sharpe, overfit_report, pbo_cscv
from statarb.backtest.portfolio import PortfolioConfig, run_portfolio
from statarb.backtest.portfolio_result import PortfolioResult
from statarb.backtest.result import TRADE_COLUMNS, BacktestResult, Trade
from statarb.backtest.sweep import (
    SweepReport,
    WalkForwardResult,
    sweep,
    sweep_report,
    walk_forward,
)

__all__ = [
    "HEDGE_MODES",
    "TRADE_COLUMNS",
    "BacktestConfig",
    "BacktestResult",
    "PortfolioConfig",
    "PortfolioResult",
    "SweepReport",
    "Trade",
    "WalkForwardResult",
    "compute_metrics",
    "deflated_sharpe",
    "drawdown",
    "overfit_report",
    "pbo_cscv",
    "run_backtest",
    "run_portfolio",
    "sweep",
    "sweep_report",
    "walk_forward",
]
