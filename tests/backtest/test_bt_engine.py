import math

import numpy as np
import pandas as pd
import pytest
from _data import coint_pair, kline_closes

from statarb.backtest import BacktestConfig, run_backtest
from statarb.backtest.hedge import signal_inputs
from statarb.errors import InputError

NAN = float("nan")


def _signals(n, z, beta=1.0, alpha=0.0):
    return (np.full(n, beta), np.full(n, alpha), np.zeros(n), np.asarray(z, float), False)


def test_hand_computed_round_trip():
    y = np.array([10, 10, 10, 11, 12, 12, 12, 12], float)
    x = np.full(8, 5.0)
    z = [NAN, 0, -2.5, -1, 0.5, 0, 0, 0]
    cfg = BacktestConfig(entry=2, exit=0, window=2, capital=1000, fee_bps=10, slippage_bps=0)
    res = run_backtest(y, x, config=cfg, signals=_signals(8, z))
    q = 1000 / 15  # notional / (|y| + |beta| x) at the signal bar's close
    assert len(res.trades) == 1
    t = res.trades[0]
    assert (t.entry_bar, t.exit_bar, t.side, t.exit_reason) == (3, 5, 1, "signal")
    assert t.qty_y == pytest.approx(q) and t.qty_x == pytest.approx(-q)
    assert (t.entry_price_y, t.exit_price_y) == (11.0, 12.0)  # filled on the NEXT bar
    entry_fee = 0.001 * q * (11 + 5)
    exit_fee = 0.001 * q * (12 + 5)
    assert t.pnl_gross == pytest.approx(q * 1.0)
    assert t.costs == pytest.approx(entry_fee + exit_fee)
    assert t.pnl_net == pytest.approx(q - entry_fee - exit_fee)
    expected = [1000, 1000, 1000, 1000 - entry_fee, 1000 - entry_fee + q]
    expected += [1000 + q - entry_fee - exit_fee] * 3
    np.testing.assert_allclose(res.equity, expected)
    assert res.qty_y.tolist() == [0, 0, 0, q, q, 0, 0, 0]
    assert res.metrics["trades"] == 1 and res.metrics["win_rate"] == 1.0
    assert res.metrics["exposure"] == pytest.approx(2 / 8)
    assert res.metrics["profit_factor"] == math.inf  # no losing trade
    assert not res.ruined and res.to_dict()["ruined"] is False


def test_no_entry_on_the_second_to_last_bar():
    y, x = np.array([10, 10, 10, 10, 10, 11], float), np.full(6, 5.0)
    cfg = BacktestConfig(entry=2, exit=0, window=2, capital=1000, fee_bps=10, slippage_bps=0)
    res = run_backtest(y, x, config=cfg, signals=_signals(6, [NAN, 0, 0, 0, -3, 0]))
    assert res.trades == [] and res.equity[-1] == 1000  # not a cost-only trade on the last bar
    assert math.isnan(res.metrics["profit_factor"])


def test_ruin_stops_trading_and_is_flagged():
    y = np.array([10, 10, 10, 10, 8, 6, 4, 2, 3, 4, 5, 6, 7, 8], float)
    x = np.full(len(y), 5.0)
    z = [NAN, 0, -2.5, -3, -3, -3, -3, -3, -3, 0, -3, 0, 0, 0]
    cfg = BacktestConfig(entry=2, exit=0, window=2, capital=1000, leverage=5, fee_bps=0,
                         slippage_bps=0)  # fmt: skip
    res = run_backtest(y, x, config=cfg, signals=_signals(len(y), z))
    q = 5000 / 15
    assert res.ruined and res.ruin_bar == 5  # 1000 + q * (6 - 10) < 0
    assert [(t.entry_bar, t.exit_bar, t.exit_reason) for t in res.trades] == [(3, 5, "ruin")]
    np.testing.assert_allclose(res.equity[5:], 1000 + q * (6 - 10))  # flat: no more trading
    assert res.qty_y[5:].tolist() == [0.0] * (len(y) - 5)
    assert res.metrics["total_return"] == pytest.approx(q * -4 / 1000)
    assert res.metrics["sharpe"] < 0 and math.isnan(res.metrics["annual_return"])
    assert "RUINED" in res.summary() and res.to_dict()["ruin_bar"] == 5
    # a run that lost less must not look worse than the ruined one
    milder = run_backtest(y, x, config=cfg.with_(leverage=1), signals=_signals(len(y), z))
    assert not milder.ruined and milder.metrics["sharpe"] > res.metrics["sharpe"]


def test_equity_sizing_compounds():
    y = np.array([10, 10, 10, 11, 12, 12, 10, 10, 10, 10], float)
    x = np.full(len(y), 5.0)
    z = [NAN, 0, -2.5, -1, 0.5, 0, -2.5, -1, 0.5, 0]
    cfg = BacktestConfig(entry=2, exit=0, window=2, capital=1000, fee_bps=0, slippage_bps=0)
    fixed = run_backtest(y, x, config=cfg, signals=_signals(len(y), z))
    grown = run_backtest(y, x, config=cfg.with_(sizing="equity"), signals=_signals(len(y), z))
    assert fixed.trades[1].qty_y == pytest.approx(1000 / 15)
    cash = fixed.equity[5]  # equity when the second trade is decided (flat at bar 6)
    assert grown.trades[1].qty_y == pytest.approx(cash / 1000 * 1000 / 15)
    with pytest.raises(InputError, match="sizing"):
        BacktestConfig(sizing="kelly")  # type: ignore[arg-type]


def test_short_stop_max_hold_and_end():
    n = 12
    y = np.linspace(10, 12, n)
    x = np.full(n, 5.0)
    # short at bar 1 (z=3), stop at z>=4 decided at bar 3 -> filled bar 4
    z = [0, 3, 3.5, 4.2, 0, 0, -3, -2.5, -2.5, -2.5, -2.5, -2.5]
    cfg = BacktestConfig(entry=2, exit=0, stop=4, max_hold=2, window=2, fee_bps=0, slippage_bps=0)
    res = run_backtest(y, x, config=cfg, signals=_signals(n, z))
    reasons = [(t.side, t.entry_bar, t.exit_bar, t.exit_reason) for t in res.trades]
    assert reasons[0] == (-1, 2, 4, "stop")
    assert reasons[1] == (1, 7, 9, "max_hold")  # held bars 7 and 8 -> exit decided at 8
    assert reasons[2] == (1, 10, 11, "end")  # re-entered, closed at the last bar
    assert res.qty_y[-1] == 0.0


def reference_backtest(y, x, beta, z, entry, exit_, notional, fee, slip):
    """Plain event loop written independently: decide at close t, fill at close t+1."""
    cash, qy, qx, side, pending, trades = notional, 0.0, 0.0, 0, None, []
    equity = []
    for t in range(len(y)):
        if pending is not None:
            kind, a, b = pending
            if kind == "exit":
                cost = (fee + slip) * (abs(qy * y[t]) + abs(qx * x[t]))
                cash += qy * y[t] + qx * x[t] - cost
                trades[-1]["exit"] = t
                trades[-1]["cost"] += cost
                qy = qx = 0.0
                side = 0
            else:
                qy, qx = a, b
                cost = (fee + slip) * (abs(qy * y[t]) + abs(qx * x[t]))
                cash -= qy * y[t] + qx * x[t] + cost
                side = 1 if qy > 0 else -1
                trades.append({"entry": t, "cost": cost, "qy": qy})
            pending = None
        equity.append(cash + qy * y[t] + qx * x[t])
        if t == len(y) - 1 or not math.isfinite(z[t]):
            continue
        # no entry on the second-to-last bar: it would fill on the last bar and close there
        if side == 0 and t < len(y) - 2 and math.isfinite(beta[t]) and abs(z[t]) > entry:
            s = -1 if z[t] > entry else 1
            unit = abs(y[t]) + abs(beta[t]) * abs(x[t])
            pending = ("enter", s * notional / unit, -s * beta[t] * notional / unit)
        elif (side == 1 and z[t] >= -exit_) or (side == -1 and z[t] <= exit_):
            pending = ("exit", 0, 0)
    if side != 0:
        t = len(y) - 1
        cost = (fee + slip) * (abs(qy * y[t]) + abs(qx * x[t]))
        cash += qy * y[t] + qx * x[t] - cost
        trades[-1]["exit"] = t
        trades[-1]["cost"] += cost
        equity[-1] = cash
    return np.array(equity), trades


@pytest.mark.parametrize("method", ["rolling-ols", "kalman", "expanding"])
def test_equals_independent_reference(method):
    y, x = coint_pair(n=3000, seed=11)
    cfg = BacktestConfig(
        entry=1.5, exit=0.25, window=40, method=method, fee_bps=4, slippage_bps=1, capital=50_000
    )
    res = run_backtest(y, x, config=cfg)
    beta, _, _, z, _ = signal_inputs(y, x, cfg)
    eq, trades = reference_backtest(y, x, beta, z, 1.5, 0.25, 50_000, 4e-4, 1e-4)
    assert len(res.trades) == len(trades) > 10
    assert [t.entry_bar for t in res.trades] == [t["entry"] for t in trades]
    assert [t.exit_bar for t in res.trades] == [t["exit"] for t in trades]
    np.testing.assert_allclose([t.costs for t in res.trades], [t["cost"] for t in trades])
    np.testing.assert_allclose(res.equity, eq, rtol=1e-12)


@pytest.mark.parametrize("method", ["rolling-ols", "kalman", "expanding"])
def test_no_look_ahead(method):
    y, x = coint_pair(n=2000, seed=2)
    cfg = BacktestConfig(entry=1.5, window=40, method=method)
    base = run_backtest(y, x, config=cfg)
    cut = 1200
    y2 = y.copy()
    y2[cut + 1 :] *= np.linspace(1.0, 1.3, len(y) - cut - 1)
    bumped = run_backtest(y2, x, config=cfg)
    decided = [t for t in base.trades if t.entry_bar - 1 <= cut]
    other = bumped.trades[: len(decided)]
    assert [(t.entry_bar, t.side, t.qty_y) for t in decided[:-1]] == [
        (t.entry_bar, t.side, t.qty_y) for t in other[:-1]
    ]
    np.testing.assert_array_equal(base.equity[: cut + 1], bumped.equity[: cut + 1])
    np.testing.assert_array_equal(base.zscore[: cut + 1], bumped.zscore[: cut + 1])


def test_static_is_flagged_in_sample():
    y, x = coint_pair(n=800)
    res = run_backtest(y, x, config=BacktestConfig(method="static"))
    assert res.in_sample and "in-sample" in res.summary()
    assert not run_backtest(y, x).in_sample


def test_costs_funding_filters_and_cost_awareness():
    y, x = coint_pair(n=2000, seed=4)
    free = run_backtest(y, x, config=BacktestConfig(fee_bps=0, slippage_bps=0))
    paid = run_backtest(y, x, config=BacktestConfig(fee_bps=10, slippage_bps=5))
    assert paid.metrics["net_pnl"] < free.metrics["net_pnl"]
    assert paid.metrics["fees"] == pytest.approx(2 * paid.metrics["slippage"])
    fund = np.zeros(2000)
    fund[::480] = 0.001
    funded = run_backtest(
        y, x, config=BacktestConfig(fee_bps=0, slippage_bps=0), funding_y=fund, funding_x=fund
    )
    assert funded.metrics["funding"] != 0
    assert funded.metrics["net_pnl"] == pytest.approx(
        free.metrics["net_pnl"] + funded.metrics["funding"]
    )
    lots = run_backtest(y, x, filters={"lot_y": 1.0, "lot_x": 1.0})
    assert all(float(t.qty_y).is_integer() for t in lots.trades)
    skipped = run_backtest(y, x, filters={"min_notional": 1e9})
    assert skipped.trades == [] and skipped.skipped_trades > 0
    assert paid.break_even_z > free.break_even_z == 0
    wide = np.full(2000, 0.002)
    quoted = run_backtest(
        y, x, config=BacktestConfig(fee_bps=0, slippage_bps=0), spread_cost=(wide, wide)
    )
    assert quoted.metrics["slippage"] > 0


def test_trade_log_frame_and_times():
    y, x = coint_pair(n=1000)
    idx = pd.date_range("2026-02-01", periods=1000, freq="1min", tz="UTC")
    res = run_backtest(y, x, index=idx)
    frame = res.trades_frame()
    for col in (
        "entry_time",
        "exit_time",
        "side",
        "hedge_ratio",
        "entry_z",
        "exit_z",
        "pnl_gross",
        "costs",
        "pnl_net",
    ):
        assert col in frame
    assert frame["entry_time"].iloc[0] == idx[res.trades[0].entry_bar]
    assert res.equity_frame().index.equals(idx)
    d = res.to_dict()
    assert d["bars"] == 1000 and d["metrics"]["trades"] == len(res.trades)


def test_validation():
    with pytest.raises(InputError, match="exit"):
        BacktestConfig(entry=2, exit=3)
    with pytest.raises(InputError, match="stop"):
        BacktestConfig(entry=2, stop=1)
    with pytest.raises(InputError, match="method"):
        BacktestConfig(method="magic")
    y, x = coint_pair(n=100)
    with pytest.raises(InputError, match="filters"):
        run_backtest(y, x, filters={"tick": 0.1})
    with pytest.raises(InputError, match="funding"):
        run_backtest(y, x, funding_y=np.zeros(100))


@pytest.mark.slow
def test_real_klines_end_to_end(shared_data):
    df = kline_closes(shared_data).iloc[:20000]
    y, x = df["AVAXUSDT"].to_numpy(), df["LINKUSDT"].to_numpy()
    for method in ("kalman", "rolling-ols"):
        res = run_backtest(y, x, config=BacktestConfig(method=method, window=120))
        assert res.metrics["trades"] > 0
        assert np.isfinite(res.equity).all()
        pnl = sum(t.pnl_net for t in res.trades)
        assert pnl == pytest.approx(res.equity[-1] - res.config.capital, rel=1e-9, abs=1e-6)
