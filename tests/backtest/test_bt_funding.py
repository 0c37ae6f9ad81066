"""Funding: Binance's rule on a hand-made fixture, reconciliation of events, charging in a book."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from statarb.backtest.funding import funding_payment, funding_per_bar, funding_times
from statarb.backtest.portfolio import PortfolioConfig, run_portfolio
from statarb.errors import InputError

H = 3_600_000_000
T0 = 1_704_067_200_000_000  # 2024-01-01 00:00 UTC

# Binance USD-M: funding fee = position notional (mark price x size) x funding rate;
# rate > 0: longs pay shorts; rate < 0: shorts pay longs. Cash received by the position:
BINANCE_FIXTURE = [  # qty (+ long), mark price, rate, cash received (worked by hand)
    (2.0, 30_000.0, 0.0001, -6.0),  # long 60,000 notional pays 6
    (-1.5, 2_000.0, 0.0001, 0.3),  # short 3,000 notional receives 0.3
    (10.0, 50.0, -0.0003, 0.15),  # long 500 notional receives 0.15 (negative rate)
    (-4.0, 25.0, -0.0005, -0.05),  # short 100 notional pays 0.05
    (0.0, 100.0, 0.01, 0.0),  # flat: nothing
]


@pytest.mark.parametrize(("qty", "mark", "rate", "cash"), BINANCE_FIXTURE)
def test_binance_funding_rule(qty, mark, rate, cash):
    assert float(funding_payment(qty, mark, rate)) == pytest.approx(cash, abs=1e-12)


def test_funding_times_follow_the_utc_grid():
    t = funding_times(T0 + 1, T0 + 48 * H)
    assert list((t - T0) // H) == [8, 16, 24, 32, 40]
    assert list((funding_times(T0, T0 + 9 * H, interval_hours=4) - T0) // H) == [0, 4, 8]


def test_reconciliation_counts_and_places_events():
    bars = T0 + np.arange(48) * H  # 48 one-hour bars: funding due at hours 0, 8, ..., 40
    events = T0 + np.array([0, 8, 24, 32, 40]) * H + 3_000  # stamped 3 ms late; 16 h missing
    rates = np.array([1e-4, -2e-4, 3e-4, 1e-4, 5e-5])
    sch = funding_per_bar(bars, events, rates, bar_us=H, symbol="BTCUSDT")
    assert (sch.expected, sch.found, sch.missing) == (6, 5, 1)
    assert list(sch.missing_times) == [T0 + 16 * H]
    assert sch.flagged and "FLAGGED" in sch.summary()
    np.testing.assert_array_equal(np.flatnonzero(sch.rates), [0, 8, 24, 32, 40])
    np.testing.assert_allclose(sch.rates[[0, 8, 24, 32, 40]], rates)
    # 1 missing of 200 (0.5%) passes; 3 of 200 (1.5%) is flagged
    bars = T0 + np.arange(1600) * H
    due = funding_times(int(bars[0]), int(bars[-1]) + H)
    assert len(due) == 200
    ok = funding_per_bar(bars, due[1:], np.full(199, 1e-4), bar_us=H)
    assert ok.missing == 1 and not ok.flagged
    bad = funding_per_bar(bars, due[3:], np.full(197, 1e-4), bar_us=H)
    assert bad.missing == 3 and bad.flagged
    with pytest.raises(InputError, match="not finite"):
        funding_per_bar(bars, due[:2], [1e-4, np.nan], bar_us=H)


def _book_prices(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(9)
    common = np.cumsum(rng.normal(0, 1, n)) + 1000
    cols = {}
    for i, s in enumerate(["AAAUSDT", "BBBUSDT", "CCCUSDT"]):
        cols[s] = common * (1 + 0.2 * i) + 3 * lfilter([1.0], [1.0, -0.9], rng.normal(0, 1, n))
    return pd.DataFrame(cols)


def test_book_charges_funding_by_the_rule_and_reports_reconciliation():
    n = 1200
    prices = _book_prices(n)
    bars = T0 + np.arange(n) * (H // 4)  # 15-minute bars: funding every 32 bars
    due = funding_times(int(bars[0]), int(bars[-1]) + H // 4)
    rng = np.random.default_rng(1)
    schedules = {}
    for s in prices:
        keep = np.ones(len(due), dtype=bool)
        if s == "CCCUSDT":
            keep[5] = False  # one of 38 events missing: flagged
        rates = rng.normal(1e-4, 3e-4, len(due))[keep]
        schedules[s] = funding_per_bar(bars, due[keep], rates, bar_us=H // 4, symbol=s)
    cfg = PortfolioConfig(window=40, max_open=None, gross_cap=None, bar_seconds=900)
    pairs = ["AAAUSDT/BBBUSDT", "BBBUSDT/CCCUSDT"]
    res = run_portfolio(pairs, prices, config=cfg, funding=schedules)
    assert res.funding["reconciled"] and res.funding["flagged"]
    assert res.funding["missing"] == 1 and res.funding["expected"] == 3 * len(due)
    assert res.metrics["funding_flagged"] and "FLAGGED" in res.summary()
    legs = res.legs_frame()
    assert len(legs) > 10
    close = prices[list(res.symbols)].to_numpy()
    col = {s: j for j, s in enumerate(res.symbols)}
    for leg in legs.itertuples():
        j = col[leg.symbol]
        last = leg.exit_bar if leg.exit_reason != "end" else n  # held at the closes before exit
        t = np.arange(leg.entry_bar, last)
        rate = schedules[leg.symbol].rates[t]
        want = float(funding_payment(leg.qty, close[t, j], rate).sum())
        assert leg.funding == pytest.approx(want, rel=1e-12, abs=1e-12)
    # a long leg through a positive-rate funding pays
    assert (legs.funding != 0).any()
    free = run_portfolio(pairs, prices, config=cfg)
    assert not free.metrics["funding_charged"] and "not charged" in free.summary()


def test_book_needs_a_schedule_per_symbol():
    prices = _book_prices(300)
    bars = T0 + np.arange(300) * H
    due = funding_times(int(bars[0]), int(bars[-1]) + H)
    one = {"AAAUSDT": funding_per_bar(bars, due, np.zeros(len(due)), bar_us=H)}
    with pytest.raises(InputError, match="BBBUSDT"):
        run_portfolio(["AAAUSDT/BBBUSDT"], prices, funding=one)
