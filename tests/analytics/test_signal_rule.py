"""The one signal rule: its cases, and the live loop against the backtester's bar loop."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from statarb.analytics.signal_rule import (
    R_MAX_HOLD,
    R_NONE,
    R_SIGNAL,
    R_STOP,
    R_TIME_STOP,
    next_side,
    signal_step,
    signal_step_py,
)
from statarb.backtest._kernel import T_ENTRY_BAR, T_EXIT_BAR, T_REASON, T_SIDE, run_kernel


def test_bands_stops_and_time_stop() -> None:
    assert signal_step_py(-1, 4.0, 3, 0, 2.0, 0.0, 4.0, 0) == (0, R_STOP)
    assert signal_step(0, 2.5, 0, 0, 2.0, 0.0, 0.0, 0) == (-1, R_NONE)
    assert signal_step(0, -2.5, 0, 0, 2.0, 0.0, 0.0, 0) == (1, R_NONE)
    assert signal_step(0, 1.9, 0, 0, 2.0, 0.0, 0.0, 0) == (0, R_NONE)
    assert signal_step(1, -0.1, 3, 0, 2.0, 0.0, 0.0, 0) == (1, R_NONE)
    assert signal_step(1, 0.0, 3, 0, 2.0, 0.0, 0.0, 0) == (0, R_SIGNAL)
    assert signal_step(-1, 0.0, 3, 0, 2.0, 0.0, 0.0, 0) == (0, R_SIGNAL)
    assert signal_step(-1, 4.0, 3, 0, 2.0, 0.0, 4.0, 0) == (0, R_STOP)
    assert signal_step(1, -4.0, 3, 0, 2.0, 0.0, 4.0, 0) == (0, R_STOP)
    assert signal_step(1, -3.0, 5, 5, 2.0, 0.0, 4.0, 0) == (0, R_TIME_STOP)
    assert signal_step(1, -3.0, 4, 5, 2.0, 0.0, 4.0, 0) == (1, R_NONE)
    assert signal_step(-1, 3.0, 7, 9, 2.0, 0.0, 0.0, 7) == (0, R_MAX_HOLD)
    assert signal_step(1, math.nan, 99, 5, 2.0, 0.0, 0.0, 1) == (1, R_NONE)
    # an exit never re-enters on the same bar, even beyond the other band
    assert signal_step(1, 2.5, 1, 0, 2.0, 0.0, 0.0, 0) == (0, R_SIGNAL)
    assert next_side(-1, 4.1, entry=2.0, exit=0.0, stop=4.0) == (0, "stop")
    assert next_side(1, -1.0, entry=2.0, exit=0.5, held=3, limit=3) == (0, "time_stop")


def _live(z, limits, entry, exit_, stop, max_hold, start):  # type: ignore[no-untyped-def]
    """The live loop (tracker, paper trader): side after each close, fills at the next bar.

    It runs the rule as the live paths do (interpreted) and as compiled; both must agree.
    """
    side, held, limit, out = 0, 0, 0.0, []
    for t, zt in enumerate(z):
        if side != 0:
            held += 1
        if t >= start:
            new, why = signal_step_py(side, zt, held, limit, entry, exit_, stop, max_hold)
            assert (new, why) == signal_step(side, zt, held, limit, entry, exit_, stop, max_hold)
            if side == 0 and new != 0:
                held, limit = 0, (limits[t] if len(limits) else 0.0)
            side = new
        out.append(side)
    return out


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    entry=st.floats(0.8, 2.5),
    exit_=st.floats(-0.5, 0.5),
    stop_gap=st.one_of(st.just(0.0), st.floats(0.3, 2.0)),
    max_hold=st.sampled_from([0, 3, 12]),
    time_stop=st.booleans(),
)
def test_live_rule_and_backtest_agree_bar_for_bar(
    seed: int, entry: float, exit_: float, stop_gap: float, max_hold: int, time_stop: bool
) -> None:
    rng = np.random.default_rng(seed)
    n, start = 300, 2
    z = np.cumsum(rng.normal(0, 0.6, n)) * 0.5 + rng.normal(0, 1.2, n)
    z[rng.random(n) < 0.05] = np.nan
    limits = rng.integers(0, 15, n).astype(np.float64) if time_stop else np.empty(0)
    stop = entry + stop_gap if stop_gap else 0.0
    ones, empty = np.full(n, 100.0), np.empty(0)
    _, trades, *_ = run_kernel(
        ones, ones, ones, ones, np.ones(n), np.zeros(n), z, entry, exit_, stop, max_hold,
        1000.0, 10_000.0, 0.0, 0.0, empty, empty, empty, empty, 0.0, 0.0, 0.0, start, 2, 0.0,
        False, limits,
    )  # fmt: skip
    held = np.zeros(n, dtype=np.int64)  # the backtest's side during each bar (after its fills)
    for r in trades:
        held[int(r[T_ENTRY_BAR]) : int(r[T_EXIT_BAR])] = int(r[T_SIDE])
        if r[T_REASON] == 3:  # closed at the end of the data, not by the rule
            held[int(r[T_EXIT_BAR])] = int(r[T_SIDE])
    live = _live(z, limits, entry, exit_, stop, max_hold, start)
    # the side decided at close t is the backtest's side during bar t + 1
    # (the backtester takes no entry that would fill on the last bar)
    assert live[: n - 3] == held[1 : n - 2].tolist()
