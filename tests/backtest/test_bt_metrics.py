import math

import numpy as np
import pytest

from statarb.backtest.metrics import compute_metrics, drawdown


def test_metrics_match_empyrical_formulas():
    rng = np.random.default_rng(0)
    rets = rng.normal(0.0002, 0.002, 5000)
    capital = 1000.0
    equity = capital * np.cumprod(1 + rets)
    pnl = np.array([5.0, -2.0, 3.0, -1.0])
    m = compute_metrics(
        equity,
        {
            "pnl_net": pnl,
            "bars_held": np.array([3.0, 5, 2, 2]),
            "fees": np.ones(4),
            "slippage": np.zeros(4),
            "funding": np.zeros(4),
        },
        bars_per_year=525_600,
        capital=capital,
        exposure_bars=1000,
        traded_notional=5000.0,
    )
    ann = math.sqrt(525_600)
    assert m["sharpe"] == pytest.approx(rets.mean() / rets.std(ddof=1) * ann)
    downside = math.sqrt(np.mean(np.minimum(rets, 0) ** 2))
    assert m["sortino"] == pytest.approx(rets.mean() / downside * ann)
    assert m["annual_volatility"] == pytest.approx(rets.std(ddof=1) * ann)
    total = equity[-1] / capital - 1
    assert m["total_return"] == pytest.approx(total)
    assert m["annual_return"] == pytest.approx((1 + total) ** (525_600 / 5000) - 1)
    peak = np.maximum.accumulate(np.r_[capital, equity])
    assert m["max_drawdown"] == pytest.approx((np.r_[capital, equity] / peak - 1).min())
    assert m["calmar"] == pytest.approx(m["annual_return"] / -m["max_drawdown"])
    assert m["win_rate"] == 0.5 and m["profit_factor"] == pytest.approx(8 / 3)
    assert m["avg_win"] == 4.0 and m["avg_loss"] == -1.5 and m["avg_bars_held"] == 3.0
    assert m["exposure"] == 0.2 and m["turnover"] == 5.0 and m["fees"] == 4.0


def test_drawdown_duration():
    eq = np.array([100, 110, 105, 100, 108, 111, 90, 95.0])
    dd = drawdown(eq)
    assert dd[3] == pytest.approx(100 / 110 - 1)
    m = compute_metrics(
        eq,
        {k: np.array([]) for k in ("pnl_net", "bars_held", "fees", "slippage", "funding")},
        bars_per_year=365,
        capital=100.0,
        exposure_bars=0,
        traded_notional=0.0,
    )
    assert m["max_drawdown_bars"] == 3
    assert math.isnan(m["win_rate"]) and m["trades"] == 0


def test_backtest_metrics_equal_the_standalone_formulas():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "analytics"))
    from _data import coint_pair

    from statarb.backtest import BacktestConfig, run_backtest

    y, x = coint_pair(n=3000)
    res = run_backtest(y, x, config=BacktestConfig(window=40))
    tb = res.trade_table
    pnl = np.array([t.pnl_net for t in res.trades])
    ref = compute_metrics(
        res.equity,
        {
            "pnl_net": pnl,
            "bars_held": tb[:, 1] - tb[:, 0],
            "fees": tb[:, 16],
            "slippage": tb[:, 17],
            "funding": tb[:, 14],
        },
        bars_per_year=365 * 1440,
        capital=res.config.capital,
        exposure_bars=int(np.count_nonzero(res.qty_y)),
        traded_notional=res.metrics["turnover"] * res.config.capital,
    )
    for k, v in ref.items():
        assert res.metrics[k] == pytest.approx(v, rel=1e-9, nan_ok=True), k
    np.testing.assert_allclose(res.drawdown, drawdown(res.equity, res.config.capital))
