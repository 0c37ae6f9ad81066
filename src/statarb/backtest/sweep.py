"""Parameter sweeps (a grid of rules) and walk-forward analysis (out-of-sample only)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from statarb.analytics._validate import pair_arrays
from statarb.backtest.config import BacktestConfig
from statarb.backtest.engine import run_backtest
from statarb.backtest.hedge import signal_inputs
from statarb.backtest.overfit import OverfitReport, TrialStats
from statarb.errors import InputError

SWEEP_KEYS = ("entry", "exit", "stop", "window", "max_hold", "hedge_window")
#: metrics copied into each sweep row
SWEEP_METRICS = (
    "total_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "trades",
    "win_rate",
    "profit_factor",
    "fees",
)


def _grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    bad = set(grid) - set(SWEEP_KEYS)
    if bad:
        raise InputError(f"cannot sweep {sorted(bad)}; choose from {', '.join(SWEEP_KEYS)}")
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def _bar_returns(equity: np.ndarray, capital: float) -> np.ndarray:
    """Bar returns of an equity curve, the first measured from ``capital``."""
    eq = np.concatenate(([capital], equity))
    return eq[1:] / eq[:-1] - 1.0


def _run_grid(
    ya: np.ndarray,
    xa: np.ndarray,
    base: BacktestConfig,
    grid: Mapping[str, Sequence[Any]],
    index: Any,
    workers: int | None,
) -> tuple[list[dict[str, Any]], TrialStats | None]:
    """Rows of :func:`sweep` and the configurations' return summaries (None without any)."""
    from statarb.backtest.overfit import blocks_for, trial_stats

    combos = []
    for params in _grid(grid):
        try:
            combos.append((params, base.with_(**params)))
        except InputError:
            continue
    cache: dict[tuple[Any, ...], Any] = {}
    for _, cfg in combos:
        key = (cfg.window, cfg.hedge_window, cfg.method)
        if key not in cache:
            cache[key] = signal_inputs(ya, xa, cfg)

    def one(item: tuple[dict[str, Any], BacktestConfig]) -> tuple[dict[str, Any], Any]:
        params, cfg = item
        res = run_backtest(
            ya,
            xa,
            config=cfg,
            index=index,
            signals=cache[(cfg.window, cfg.hedge_window, cfg.method)],
        )
        summary = trial_stats(_bar_returns(res.equity, cfg.capital), blocks=nb)
        return {**params, **{m: res.metrics[m] for m in SWEEP_METRICS}}, summary

    nb = blocks_for(len(ya))
    with ThreadPoolExecutor(max_workers=workers or 2) as pool:
        out = list(pool.map(one, combos))
    rows = [r for r, _ in out]
    return rows, TrialStats.from_columns([m for _, m in out]) if out else None


def sweep(
    y: Any,
    x: Any,
    *,
    config: BacktestConfig | None = None,
    grid: Mapping[str, Sequence[Any]],
    index: Any = None,
    workers: int | None = None,
) -> Any:
    """Run every combination of ``grid`` (e.g. ``{"entry": [1.5, 2], "window": [30, 60]}``).

    Signals are computed once per (window, hedge) setting and shared; the compiled loop releases
    nothing to Python, so combinations run on a thread pool. Returns a DataFrame with one row
    per combination: the parameters, then :data:`SWEEP_METRICS`. Invalid combinations (e.g. exit
    beyond entry) are skipped. ``table.attrs["overfit"]`` holds the number of configurations
    tried, the best row's deflated Sharpe and PBO (:func:`sweep_report` adds each row's DSR).
    """
    import pandas as pd

    from statarb.backtest.overfit import overfit_from_trials

    base = config or BacktestConfig()
    ya, xa = pair_arrays(y, x, min_length=3)
    rows, stats = _run_grid(ya, xa, base, grid, index, workers)
    table = pd.DataFrame(rows, columns=[*(grid.keys()), *SWEEP_METRICS])
    if stats is not None:
        table.attrs["overfit"] = overfit_from_trials(stats).to_dict()
    return table


@dataclass(frozen=True)
class SweepReport:
    """A sweep with its guards: every row's deflated Sharpe and the best row's verdict.

    ``table`` is :func:`sweep`'s table plus ``sharpe_per_bar`` and ``dsr`` (the probability that
    the row's true Sharpe exceeds the best Sharpe expected from ``n_configs`` unskilled tries);
    ``overfit`` holds the number of configurations, the best row's DSR and PBO by CSCV.
    """

    table: Any
    overfit: OverfitReport
    best: dict[str, Any]

    @property
    def n_configs(self) -> int:
        """Configurations tried."""
        return self.overfit.n_configs

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe rows, best row and overfitting statistics."""
        rows = [
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in r.items()
            }
            for r in self.table.to_dict("records")
        ]
        best = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in self.best.items()
        }
        return {"rows": rows, "best": best, "overfit": self.overfit.to_dict()}

    def summary(self) -> str:
        """A few lines of text."""
        params = ", ".join(f"{k}={v}" for k, v in self.best.items() if k in SWEEP_KEYS)
        return f"best: {params} (Sharpe {self.best.get('sharpe', math.nan):.2f})\n" + (
            self.overfit.summary()
        )


def sweep_report(
    y: Any,
    x: Any,
    *,
    config: BacktestConfig | None = None,
    grid: Mapping[str, Sequence[Any]],
    index: Any = None,
    workers: int | None = None,
    blocks: int = 16,
) -> SweepReport:
    """:func:`sweep` plus the deflated Sharpe of each row and PBO of picking the best Sharpe.

    The best row is the one with the highest Sharpe; PBO uses ``blocks`` CSCV blocks of bars.
    """
    import pandas as pd

    from statarb.backtest.overfit import overfit_from_trials, probabilistic_sharpe

    base = config or BacktestConfig()
    ya, xa = pair_arrays(y, x, min_length=3)
    rows, stats = _run_grid(ya, xa, base, grid, index, workers)
    if stats is None:
        raise InputError("no valid combination in the grid")
    table = pd.DataFrame(rows, columns=[*(grid.keys()), *SWEEP_METRICS])
    report = overfit_from_trials(stats)
    per_bar = stats.sharpe
    dsr = [
        probabilistic_sharpe(float(sr), stats.n_obs, skew=float(sk), kurtosis=float(ku),
                             benchmark=report.dsr.sr0)
        for sr, sk, ku in zip(stats.sharpe, stats.skew, stats.kurtosis, strict=True)
    ]  # fmt: skip
    table["sharpe_per_bar"] = per_bar
    table["dsr"] = dsr
    chosen = int(np.nanargmax(np.where(np.isfinite(per_bar), per_bar, -np.inf)))
    return SweepReport(table, report, dict(table.iloc[chosen].to_dict()))


@dataclass(frozen=True)
class WalkForwardResult:
    """Out-of-sample results of a walk-forward analysis."""

    folds: Any
    equity: np.ndarray
    metrics: dict[str, Any]
    overfit: OverfitReport | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe folds, stitched out-of-sample metrics and overfitting statistics."""
        clean = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in self.metrics.items()
        }
        out: dict[str, Any] = {"folds": self.folds.to_dict("records"), "metrics": clean}
        out["overfit"] = self.overfit.to_dict() if self.overfit is not None else None
        return out


def walk_forward(
    y: Any,
    x: Any,
    *,
    config: BacktestConfig | None = None,
    grid: Mapping[str, Sequence[Any]],
    train: int,
    test: int,
    index: Any = None,
    metric: str = "sharpe",
) -> WalkForwardResult:
    """Choose parameters on each training window, trade them on the following test window.

    Only test windows are reported. Each test run sees the training bars for indicator warm-up
    but takes no decision before its test window starts, so it starts flat.
    """
    base = config or BacktestConfig()
    ya, xa = pair_arrays(y, x, min_length=train + test)
    if metric not in SWEEP_METRICS:
        raise InputError(f"metric must be one of {', '.join(SWEEP_METRICS)}, got {metric!r}")
    import pandas as pd

    from statarb.backtest.metrics import compute_metrics

    folds, curve, pnl, held, fees, slip, fund = [], [], [], [], [], [], []
    capital = base.capital
    for start in range(0, len(ya) - train - test + 1, test):
        tr = slice(start, start + train)
        table = sweep(ya[tr], xa[tr], config=base, grid=grid)
        score = table[metric].fillna(-np.inf)
        best = table.loc[int(score.idxmax())] if len(table) else None
        params = {k: best[k] for k in grid} if best is not None else {}
        params = {
            k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in params.items()
        }
        cfg = base.with_(
            capital=capital,
            **{
                k: (int(v) if k in ("window", "max_hold", "hedge_window") and v is not None else v)
                for k, v in params.items()
            },
        )
        seg = slice(start, start + train + test)
        res = run_backtest(ya[seg], xa[seg], config=cfg, start_bar=train)
        oos = res.equity[train:]
        curve.append(oos)
        capital = float(oos[-1])
        for t in res.trades:
            pnl.append(t.pnl_net)
            held.append(t.bars_held)
            fund.append(t.funding)
        fees.append(res.metrics["fees"])
        slip.append(res.metrics["slippage"])
        folds.append(
            {
                "train_start": start,
                "test_start": start + train,
                "test_end": start + train + test,
                **params,
                "oos_return": float(oos[-1] / (res.equity[train - 1]) - 1),
                "oos_trades": len(res.trades),
            }
        )
    if not folds:
        raise InputError(f"{len(ya)} bars are too few for train={train} + test={test}")
    equity = np.concatenate(curve)
    from statarb.analytics.rolling import bars_per_year

    metrics = compute_metrics(
        equity,
        {
            "pnl_net": np.array(pnl),
            "bars_held": np.array(held, dtype=float),
            "fees": np.array(fees),
            "slippage": np.array(slip),
            "funding": np.array(fund),
        },
        bars_per_year=bars_per_year(base.bar_seconds),
        capital=base.capital,
        exposure_bars=0,
        traded_notional=0.0,
    )
    for k in ("exposure", "turnover"):
        metrics.pop(k)
    return WalkForwardResult(
        pd.DataFrame(folds), equity, metrics, _walk_forward_overfit(ya, xa, base, grid, equity)
    )


def _walk_forward_overfit(
    ya: np.ndarray,
    xa: np.ndarray,
    base: BacktestConfig,
    grid: Mapping[str, Sequence[Any]],
    oos_equity: np.ndarray,
) -> OverfitReport:
    """Configurations per fold, DSR of the stitched out-of-sample returns and PBO of the grid.

    The trials' Sharpe spread and PBO come from the grid run over the whole sample, the DSR's
    returns are the out-of-sample ones the walk-forward actually earned.
    """
    from statarb.backtest.overfit import deflated_sharpe, overfit_from_trials

    _, stats = _run_grid(ya, xa, base, grid, None, None)
    if stats is None:
        raise InputError("no valid combination in the grid")
    full = overfit_from_trials(stats)
    n_cfg = len(stats.sharpe)
    dsr = deflated_sharpe(
        _bar_returns(oos_equity, base.capital), trial_sharpes=stats.sharpe, n_trials=n_cfg
    )
    return OverfitReport(n_cfg, dsr, full.pbo)


__all__ = [
    "SWEEP_KEYS",
    "SWEEP_METRICS",
    "SweepReport",
    "WalkForwardResult",
    "sweep",
    "sweep_report",
    "walk_forward",
]
