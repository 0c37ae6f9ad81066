import numpy as np
import pytest
from _data import coint_pair

from statarb.backtest import BacktestConfig, run_backtest, sweep, walk_forward
from statarb.errors import InputError


def test_sweep_rows_equal_single_runs():
    y, x = coint_pair(n=3000)
    grid = {"entry": [1.5, 2.0], "exit": [0.0, 0.5], "window": [30, 60]}
    table = sweep(y, x, grid=grid)
    assert len(table) == 8
    row = table[(table.entry == 2.0) & (table.exit == 0.5) & (table.window == 30)].iloc[0]
    single = run_backtest(y, x, config=BacktestConfig(entry=2.0, exit=0.5, window=30))
    assert row.sharpe == pytest.approx(single.metrics["sharpe"])
    assert row.trades == single.metrics["trades"]
    with pytest.raises(InputError, match="cannot sweep"):
        sweep(y, x, grid={"colour": [1]})


def test_invalid_combinations_are_skipped():
    y, x = coint_pair(n=1000)
    table = sweep(y, x, grid={"entry": [1.0, 2.0], "exit": [0.0, 1.5]})
    assert len(table) == 3  # exit 1.5 with entry 1.0 is not a valid rule


def test_walk_forward_reports_out_of_sample_only():
    y, x = coint_pair(n=4000)
    res = walk_forward(y, x, grid={"entry": [1.5, 2.0, 2.5]}, train=1500, test=500)
    assert len(res.folds) == 5
    assert len(res.equity) == 5 * 500
    assert list(res.folds.test_start) == [1500, 2000, 2500, 3000, 3500]
    # changing data after a fold's test window leaves that fold unchanged
    y2 = y.copy()
    y2[2500:] += np.linspace(0, 5, 1500)
    res2 = walk_forward(y2, x, grid={"entry": [1.5, 2.0, 2.5]}, train=1500, test=500)
    assert res2.folds.iloc[0].oos_return == res.folds.iloc[0].oos_return
    assert res.to_dict()["metrics"]["trades"] == res.metrics["trades"]
