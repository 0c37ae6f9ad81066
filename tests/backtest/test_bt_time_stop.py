"""The time stop of the single-pair backtest: k half-lives measured before each entry."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from statarb.analytics.ou import rolling_half_life, time_stop_bars
from statarb.backtest import BacktestConfig, run_backtest
from statarb.backtest.hedge import signal_inputs
from statarb.errors import InputError


def test_time_stop_closes_after_k_half_lives():
    rng = np.random.default_rng(4)
    n = 3000
    x = 100 + np.cumsum(rng.normal(0, 0.5, n))
    y = 0.8 * x + lfilter([1.0], [1.0, -0.97], rng.normal(0, 0.4, n)) + 20
    cfg = BacktestConfig(time_stop=0.5, half_life_window=300)
    res = run_backtest(y, x, config=cfg)
    tr = res.trades_frame()
    stopped = tr[tr.exit_reason == "time_stop"]
    assert len(stopped) > 0
    _, _, spread, _, _ = signal_inputs(y, x, cfg)
    hl = rolling_half_life(spread, window=300)
    for t in res.trades:
        if t.exit_reason != "time_stop":
            continue
        limit = time_stop_bars(float(hl[t.entry_bar - 1]), 0.5)  # fixed at the signal bar
        assert t.bars_held == limit
    # without the time stop, those trades would have been held longer
    free = run_backtest(y, x, config=cfg.with_(time_stop=None))
    assert free.metrics["avg_bars_held"] > res.metrics["avg_bars_held"]
    with pytest.raises(InputError, match="time_stop"):
        BacktestConfig(time_stop=-1.0)
