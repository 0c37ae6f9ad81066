"""Backtester against vectorbt on the same signals, and a 100-set parameter sweep."""

from __future__ import annotations

import time

import numpy as np

from bench._common import measure, report
from bench.bench_analytics import _pair


def _signals(z: np.ndarray, entry: float, exit_: float) -> tuple[np.ndarray, ...]:
    """Entries/exits for vectorbt that reproduce our rules (decide at close, fill next bar)."""
    long_entry = z < -entry
    long_exit = z >= -exit_
    short_entry = z > entry
    short_exit = z <= exit_
    return long_entry, long_exit, short_entry, short_exit


def bench_vs_vectorbt() -> None:
    from statarb.backtest import BacktestConfig, run_backtest
    from statarb.backtest.hedge import signal_inputs

    n = 1_000_000
    y, x = _pair(n)
    cfg = BacktestConfig(method="rolling-ols", window=60, entry=2.0, exit=0.0)
    t = time.perf_counter()
    run_backtest(y[:1000], x[:1000], config=cfg)
    print(f"[backtest] first call (compile or cache load) {time.perf_counter() - t:.2f}s")
    sig = signal_inputs(y, x, cfg)
    ours, res = measure(lambda: run_backtest(y, x, config=cfg, signals=sig), repeat=5)
    try:
        import pandas as pd
        import vectorbt as vbt
    except ImportError:
        print("[backtest] vectorbt is not installed (pip install '.[bench]'): comparison skipped")
        return
    spread = pd.Series(sig[2]).fillna(0.0)
    le, lx, se, sx = (pd.Series(a) for a in _signals(np.nan_to_num(sig[3]), 2.0, 0.0))

    # no fees on the vectorbt side: with all-in sizing, 20k fee-paying round trips shrink its cash
    # until its orders are rejected and it stops taking the same positions
    def vbt_run():
        pf = vbt.Portfolio.from_signals(
            spread + 1e6,
            entries=le.shift(1, fill_value=False),
            exits=lx.shift(1, fill_value=False),
            short_entries=se.shift(1, fill_value=False),
            short_exits=sx.shift(1, fill_value=False),
            upon_opposite_entry="close",
            freq="1min",
        )
        stats = (pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown(), pf.trades.count())
        return stats, pf

    t = time.perf_counter()
    vbt_run()
    print(f"[backtest] vectorbt first call {time.perf_counter() - t:.2f}s")
    base, (out, pf) = measure(vbt_run, repeat=3)
    differ = int((np.sign(pf.assets().to_numpy()) != np.sign(res.qty_y)).sum())
    report(
        "backtest",
        "1M bars, one backtest with all metrics",
        ours,
        base,
        ours_name="run_backtest",
        base_name="vectorbt from_signals + stats",
        target=f"(target >= 10x; trades {res.metrics['trades']} vs vectorbt {int(out[3])}; "
        f"bars whose position differs: {differ})",
    )


def bench_sweep() -> None:
    from statarb.backtest import sweep

    y, x = _pair(100_000)
    grid = {
        "entry": [1.0, 1.5, 2.0, 2.5, 3.0],
        "exit": [0.0, 0.25, 0.5, 0.75],
        "window": [30, 60, 120, 240, 480],
    }
    sweep(y[:2000], x[:2000], grid={"entry": [2.0]})
    t = time.perf_counter()
    table = sweep(y, x, grid=grid)
    print(
        f"[sweep] {len(table)} parameter sets over 100k bars: {time.perf_counter() - t:.2f}s "
        "(target < 2 s)",
        flush=True,
    )


def main() -> None:
    bench_vs_vectorbt()
    bench_sweep()
