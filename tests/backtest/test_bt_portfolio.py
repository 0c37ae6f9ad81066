"""Portfolio backtest: leg accounting, shared capital, netting, caps, sizing and time stops."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from statarb.analytics.ou import rolling_half_life
from statarb.backtest import BacktestConfig, run_backtest
from statarb.backtest.hedge import signal_inputs
from statarb.backtest.portfolio import PortfolioConfig, parse_pairs, run_portfolio
from statarb.errors import InputError

N = 3000


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    """Six symbols sharing a random walk, each with its own mean-reverting deviation."""
    rng = np.random.default_rng(42)
    common = np.cumsum(rng.normal(0, 1, N)) + 1000
    cols = {}
    for i in range(6):
        dev = lfilter([1.0], [1.0, -0.95], rng.normal(0, 1, N))
        cols[f"S{i}"] = common * (1 + 0.15 * i) + 3 * dev + 40 * i
    return pd.DataFrame(cols)


PAIRS = ["S0/S1", "S0/S2", "S1/S3", "S2/S4", "S3/S5", "S4/S5", "S5/S0"]


def _legs_pnl(legs: pd.DataFrame) -> pd.Series:
    """Each leg's P&L recomputed from its own fills: qty * (exit - entry) - costs + funding."""
    return legs.qty * (legs.exit_price - legs.entry_price) - legs.costs + legs.funding


def test_pair_pnl_is_the_sum_of_its_legs_with_a_leg_closed_early(prices):
    px = prices.copy()
    px.loc[2200:, "S5"] = np.nan  # S5 stops trading: its legs are settled, partners follow
    res = run_portfolio(PAIRS, px, config=PortfolioConfig(max_open=5, time_stop=3.0))
    trades, legs = res.trades_frame(), res.legs_frame()
    assert len(trades) > 100
    # unequal quantities on the two legs of every trade
    q = legs.pivot(index="trade", columns="leg", values="qty").abs()
    assert (np.abs(q.y - q.x) > 1e-6 * q.y).all()
    # at least one trade whose legs closed on different bars (S5 settled first)
    bars = legs.pivot(index="trade", columns="leg", values="exit_bar")
    early = bars.index[bars.y != bars.x]
    assert len(early) >= 1
    assert set(legs.loc[legs.exit_reason == "settled", "symbol"]) == {"S5"}
    assert (trades.loc[early, "exit_reason"] == "leg_gone").all()
    # the pair's P&L (accumulated bar by bar) equals the sum of its legs' P&L (from fills)
    per_trade = _legs_pnl(legs).groupby(legs.trade).sum()
    np.testing.assert_allclose(trades.pnl.to_numpy(), per_trade.to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(legs.pnl, _legs_pnl(legs), rtol=0, atol=1e-9)
    # the book: final equity = capital + every pair's P&L; per-bar P&L sums to the trades'
    assert res.equity[-1] - res.config.capital == pytest.approx(res.pair_pnl.sum(), abs=1e-6)
    np.testing.assert_allclose(res.pair_pnl.sum(axis=0),
                               trades.groupby("pair").pnl.sum().reindex(res.pairs).fillna(0),
                               atol=1e-6)  # fmt: skip
    # no entries into a pair whose leg is gone
    late = trades[trades.pair.str.contains("S5")]
    assert (late.entry_bar < 2200).all()


def _positions(res, t: int) -> pd.Series:
    legs = res.legs_frame()
    on = legs[(legs.entry_bar <= t) & (legs.exit_bar > t)]
    return on.groupby("symbol").qty.sum()


def test_shared_legs_net_in_gross_exposure(prices):
    res = run_portfolio(PAIRS, prices, config=PortfolioConfig(max_open=None, gross_cap=None))
    close = prices[list(res.symbols)]
    legs = res.legs_frame()
    checked = netted = 0
    for t in range(100, N - 1, 37):
        pos = _positions(res, t)
        if pos.empty:
            continue
        want = float((pos.abs() * close.loc[t, pos.index]).sum())
        assert res.gross[t] == pytest.approx(want, rel=1e-12)
        on = legs[(legs.entry_bar <= t) & (legs.exit_bar > t)]
        unnetted = float((on.qty.abs() * close.loc[t, on.symbol].to_numpy()).sum())
        netted += unnetted > want * (1 + 1e-9)
        checked += 1
    assert checked > 20 and netted > 0


def test_caps_and_max_open(prices):
    cfg = PortfolioConfig(max_open=2, size=0.3, pair_cap=0.2, gross_cap=0.5)
    res = run_portfolio(PAIRS, prices, config=cfg)
    trades = res.trades_frame()
    assert res.open_pairs.max() <= 2
    assert res.skipped["max_open"] > 0 and res.skipped["gross_cap"] > 0
    # the pair cap binds (0.2 < size 0.3): notional = 0.2 * equity at the decision bar
    eq_at_decision = res.equity[trades.entry_bar - 1]
    np.testing.assert_allclose(trades.notional, 0.2 * eq_at_decision, rtol=1e-12)
    # the gross cap holds at every fill, up to the price move from decision to fill
    assert res.gross[trades.entry_bar].max() <= 0.5 * res.equity.max() * 1.05


@pytest.mark.parametrize("sizing", ["equal", "inverse-vol", "risk"])
def test_sizing(prices, sizing):
    cfg = PortfolioConfig(sizing=sizing, size=0.05 if sizing == "equal" else 0.002, stop=4.0,
                          pair_cap=None, gross_cap=None, max_open=None)  # fmt: skip
    res = run_portfolio(["S0/S1"], prices, config=cfg)
    tr = res.trades_frame()
    assert len(tr) > 10
    y, x = prices.S0.to_numpy(), prices.S1.to_numpy()
    beta, _, spread, z, _ = signal_inputs(y, x, cfg.signal_config())
    d = (tr.entry_bar - 1).to_numpy()  # decisions at the close before the fill
    eq = res.equity[d]
    unit = np.abs(y[d]) + np.abs(beta[d]) * np.abs(x[d])
    if sizing == "equal":
        want = 0.05 * eq
    elif sizing == "inverse-vol":
        unit_all = pd.Series(np.abs(y) + np.abs(beta) * np.abs(x))
        r = pd.Series(np.diff(spread, prepend=np.nan)) / unit_all.shift(1)
        want = 0.002 * eq / r.rolling(cfg.window).std().to_numpy()[d]
    else:
        sd = pd.Series(spread).rolling(cfg.window).std().to_numpy()[d]
        loss_per_notional = (4.0 - np.abs(z[d])) * sd / unit
        want = 0.002 * eq / loss_per_notional
    np.testing.assert_allclose(tr.notional, want, rtol=1e-9)
    # quantities follow the hedge ratio at the decision bar
    legs = res.legs_frame().pivot(index="trade", columns="leg", values="qty")
    np.testing.assert_allclose(legs.y, tr.side * tr.notional / unit, rtol=1e-12)
    np.testing.assert_allclose(legs.x, -tr.side * beta[d] * tr.notional / unit, rtol=1e-12)


def test_time_stop_is_k_half_lives_from_past_data(prices):
    cfg = PortfolioConfig(time_stop=1.0, half_life_window=300, max_open=None)
    res = run_portfolio(["S2/S4"], prices, config=cfg)
    tr = res.trades_frame()
    y, x = prices.S2.to_numpy(), prices.S4.to_numpy()
    _, _, spread, _, _ = signal_inputs(y, x, cfg.signal_config())
    hl = rolling_half_life(spread, window=300)
    d = (tr.entry_bar - 1).to_numpy()
    ok = np.isfinite(hl[d])
    np.testing.assert_array_equal(tr.time_stop_bars[ok], np.ceil(hl[d][ok]).astype(int))
    stopped = tr[tr.exit_reason == "time_stop"]
    assert len(stopped) > 0
    # held = limit bars of closes, decided at the limit-th close, filled at the next bar
    np.testing.assert_array_equal(stopped.exit_bar - stopped.entry_bar, stopped.time_stop_bars)


def test_one_pair_trades_like_the_single_pair_backtest(prices):
    cfg = PortfolioConfig(pair_cap=None, gross_cap=None, max_open=None)
    book = run_portfolio([("S1", "S3")], prices, config=cfg).trades_frame()
    one = run_backtest(prices.S1, prices.S3, config=BacktestConfig()).trades_frame()
    k = min(len(book), len(one)) - 2  # the last trades depend on end-of-data rules
    assert k > 20
    b = book.iloc[:k]
    o = one.iloc[:k]
    np.testing.assert_array_equal(b.side, o.side)
    np.testing.assert_allclose(b.entry_z, o.entry_z)
    np.testing.assert_allclose(b.exit_z, o.exit_z)


def test_metrics_tables(prices):
    res = run_portfolio(PAIRS, prices, config=PortfolioConfig())
    corr = res.correlation()
    assert corr.shape == (len(PAIRS), len(PAIRS))
    np.testing.assert_allclose(corr.to_numpy(), res.pair_returns().corr().to_numpy())
    contrib = res.contribution()
    assert contrib.share_of_pnl.sum() == pytest.approx(1.0)
    assert contrib.share_of_risk.sum() == pytest.approx(1.0)
    pm = res.pair_metrics()
    assert pm.trades.sum() == res.metrics["trades"]
    d = res.to_dict()
    assert d["metrics"]["trades"] == res.metrics["trades"] and len(d["pair_metrics"]) == len(PAIRS)
    assert "pairs" in res.summary() and not res.metrics["in_sample"]
    static = run_portfolio(PAIRS[:2], prices, config=PortfolioConfig(method="static"))
    assert static.metrics["in_sample"] and "in-sample" in static.summary()


def test_bad_input(prices):
    with pytest.raises(InputError, match="two different symbols"):
        parse_pairs(["S0/S0"])
    with pytest.raises(InputError, match="no column 'S9'"):
        run_portfolio(["S0/S9"], prices)
    bad = prices.copy()
    bad.loc[10, "S1"] = np.nan
    with pytest.raises(InputError, match=r"prices\['S1'\].*bar 10"):
        run_portfolio(["S0/S1"], bad)
    with pytest.raises(InputError, match="needs a stop"):
        PortfolioConfig(sizing="risk")
    assert not math.isnan(PortfolioConfig().size)
