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
    beyond entry) are skipped.
    """
    import pandas as pd

    base = config or BacktestConfig()
    ya, xa = pair_arrays(y, x, min_length=3)
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

    def one(item: tuple[dict[str, Any], BacktestConfig]) -> dict[str, Any]:
        params, cfg = item
        res = run_backtest(
            ya,
            xa,
            config=cfg,
            index=index,
            signals=cache[(cfg.window, cfg.hedge_window, cfg.method)],
        )
        return {**params, **{m: res.metrics[m] for m in SWEEP_METRICS}}

    with ThreadPoolExecutor(max_workers=workers or 2) as pool:
        rows = list(pool.map(one, combos))
    return pd.DataFrame(rows, columns=[*(grid.keys()), *SWEEP_METRICS])


@dataclass(frozen=True)
class WalkForwardResult:
    """Out-of-sample results of a walk-forward analysis."""

    folds: Any
    equity: np.ndarray
    metrics: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe folds and stitched out-of-sample metrics."""
        clean = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in self.metrics.items()
        }
        return {"folds": self.folds.to_dict("records"), "metrics": clean}


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
    return WalkForwardResult(pd.DataFrame(folds), equity, metrics)


__all__ = ["SWEEP_KEYS", "SWEEP_METRICS", "WalkForwardResult", "sweep", "walk_forward"]
