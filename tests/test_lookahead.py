"""Perturb the future: every producer of a signal, one harness.

Each producer maps aligned closes ``(y, x)`` to named per-bar arrays. The harness changes both
legs after bar ``CUT`` and asserts that no value at or before ``CUT`` moves (and that something
after it does, so the test can fail). A new method joins by being listed in ``PRODUCERS``.
Full-sample ("static") fits see the whole sample by design and are flagged ``in_sample``; they are
not signal producers and are not listed.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from statarb.analytics.kalman import KalmanHedge, kalman_hedge
from statarb.analytics.pair import analyze_pair
from statarb.analytics.regression import expanding_hedge_ratio, rolling_hedge_ratio
from statarb.analytics.spread import (
    EwmZScore,
    RollingOLS,
    RollingZScore,
    ewm_zscore,
    zscore,
)
from statarb.backtest import BacktestConfig, run_backtest

N = 120
CUT = 75
W = 20  # z-score window, as in the audit's reproduction
HW = 30  # hedge window and Kalman warm-up

Producer = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = 100 + np.cumsum(rng.normal(0, 0.5, N))
    noise = np.zeros(N)
    for i in range(1, N):
        noise[i] = 0.8 * noise[i - 1] + rng.normal(0, 0.3)
    return 1.5 * x + 10 + noise, x


def _perturbed(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(99)
    y2, x2 = y.copy(), x.copy()
    k = N - CUT - 1
    y2[CUT + 1 :] *= 1.0 + np.linspace(0.0, 0.2, k) + rng.normal(0, 0.01, k)
    x2[CUT + 1 :] *= 1.0 - np.linspace(0.0, 0.1, k)
    return y2, x2


def _hedge(kind: str, method: str) -> Producer:
    def run(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
        if kind == "rolling":
            p = rolling_hedge_ratio(y, x, window=HW, method=method)  # type: ignore[arg-type]
        else:
            p = expanding_hedge_ratio(y, x, min_periods=HW, method=method)  # type: ignore[arg-type]
        return {"beta": p.beta, "alpha": p.alpha}

    return run


def _kalman(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    r = kalman_hedge(y, x, warmup=HW)
    return {"beta": r.beta, "alpha": r.alpha, "zscore": r.zscore}


def _kalman_incremental(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    kf = KalmanHedge(warmup=HW)
    steps = [kf.update(a, b) for a, b in zip(y, x, strict=True)]
    return {"beta": np.array([s.beta for s in steps]), "z": np.array([s.zscore for s in steps])}


def _rolling_ols_incremental(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    ro = RollingOLS(HW)
    return {"beta": np.array([ro.update(a, b)[0] for a, b in zip(y, x, strict=True)])}


def _zscores(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    beta = rolling_hedge_ratio(y, x, window=HW).beta
    s = y - np.r_[np.nan, beta[:-1]] * x  # a spread with a warm-up of NaNs
    rz, ez = RollingZScore(W), EwmZScore(10)
    return {
        "rolling": zscore(s, window=W),
        "ewm": ewm_zscore(y, halflife=10),
        "rolling_incremental": np.array([rz.update(v) for v in y]),
        "ewm_incremental": np.array([ez.update(v) for v in y]),
    }


def _backtest(method: str) -> Producer:
    def run(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
        cfg = BacktestConfig(entry=1.0, exit=0.0, window=W, method=method, hedge_window=HW)  # type: ignore[arg-type]
        res = run_backtest(y, x, config=cfg)
        return {
            "equity": res.equity,
            "zscore": res.zscore,
            "hedge_ratio": res.hedge_ratio,
            "qty_y": res.qty_y,
            "qty_x": res.qty_x,
        }

    return run


def _pair(method: str) -> Producer:
    def run(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
        res = analyze_pair(y, x, method=method, window=HW, z_window=W)  # type: ignore[arg-type]
        return {c: res.series[c].to_numpy() for c in ("beta", "alpha", "spread", "zscore")}

    return run


def _engine_live(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """The engine's live pair path: one trade per leg per second, values read after each."""
    from statarb.config import Settings
    from statarb.engine import Engine
    from statarb.model import Tick
    from statarb.store import open_store

    t0 = 1_723_118_400_000_000
    keys = ("zscore:AAAUSDT/BBBUSDT:1s", "hedge_ratio:AAAUSDT/BBBUSDT:1s",
            "zscore:AAAUSDT/BBBUSDT:tick", "spread:AAAUSDT/BBBUSDT:1s")  # fmt: skip
    out = {k: np.full(N, np.nan) for k in keys}

    async def main(url: str) -> None:
        store = open_store(url)
        engine = Engine(Settings(store_url=url, timeframes=["1s"]), store,
                        pairs=[("AAAUSDT", "BBBUSDT")], window_bars=N, z_window=W,
                        analytics_timeframes=["1s"])  # fmt: skip
        await engine.start()
        try:
            for i in range(N):
                ts = t0 + i * 1_000_000
                a = Tick("AAAUSDT", ts + 100, float(y[i]), 1.0, None, i + 1)
                b = Tick("BBBUSDT", ts + 200, float(x[i]), 1.0, None, i + 1)
                await engine.ingest([a, b])
                for k in keys:
                    out[k][i] = engine.values.get(k, np.nan)
        finally:
            await engine.stop()
            store.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(f"sqlite:///{Path(tmp) / 'statarb.db'}"))
    return out


def _book(method: str) -> Producer:
    """The live book's tracker (incremental, with its rolling Engle-Granger test)."""

    def run(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
        from statarb.analytics.tracker import TrackerSettings, track

        settings = TrackerSettings(method=method, window=HW, z_window=W, coint_window=40,
                                   coint_every=5, drift_bars=3, time_stop=1.0)  # fmt: skip
        snaps = track(y, x, settings=settings)
        fields = ("hedge_ratio", "spread", "zscore", "half_life", "drift", "cusum", "reversion",
                  "excursion", "coint_pvalue", "correlation")  # fmt: skip
        out = {f: np.array([getattr(s, f) for s in snaps], float) for f in fields}
        out["signal"] = np.array([("short", "flat", "long").index(s.signal) for s in snaps], float)
        return out

    return run


def _paper(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """The paper trader on the book's tracker: it decides at each close and fills on the tape
    after it (here a trade of each leg at each later bar's close)."""
    from statarb.analytics.tracker import TrackerSettings, track
    from statarb.paper import BarInput, PaperDesk, PaperSettings, PaperStrategy

    snaps = track(y, x, settings=TrackerSettings(window=HW, z_window=W))
    desk = PaperDesk()
    desk.attach(PaperStrategy(1, "Y", "X", PaperSettings(entry=1.0, exit=0.0)))
    bar = 60_000_000
    fields = ("side", "qty_y", "qty_x", "realised", "fees")
    out = {f: np.full(len(y), np.nan) for f in fields}
    for t, snap in enumerate(snaps):
        for sym, price in (("Y", y[t]), ("X", x[t])):  # the tape at this bar's close
            desk.on_trades(sym, [t * bar + bar - 1], [float(price)])
        desk.on_bar(1, BarInput(t * bar, (t + 1) * bar, snap.zscore, snap.hedge_ratio,
                                snap.half_life, float(y[t]), float(x[t])))  # fmt: skip
        pos = desk.strategies[1].position
        for f in fields:
            out[f][t] = float(getattr(pos, f))
    return out


PRODUCERS: dict[str, Producer] = {
    **{
        f"hedge:{kind}:{m}": _hedge(kind, m)
        for kind in ("rolling", "expanding")
        for m in ("ols", "huber", "theil-sen")
    },
    "hedge:kalman": _kalman,
    "hedge:kalman:incremental": _kalman_incremental,
    "hedge:rolling-ols:incremental": _rolling_ols_incremental,
    "zscore": _zscores,
    **{f"backtest:{m}": _backtest(m) for m in ("rolling-ols", "expanding", "kalman")},
    **{f"analyze_pair:{m}": _pair(m) for m in ("ols", "huber", "theil-sen", "kalman")},
    "engine:live": _engine_live,
    **{f"book:{m}": _book(m) for m in ("rolling-ols", "kalman")},
    "paper": _paper,
}


def first_change(a: np.ndarray, b: np.ndarray) -> int | None:
    """First index where two arrays differ (NaN equal to NaN), or None."""
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    bad = np.flatnonzero(~same)
    return int(bad[0]) if len(bad) else None


@pytest.mark.parametrize("name", sorted(PRODUCERS))
def test_nothing_at_or_before_the_cut_moves(name: str) -> None:
    y, x = _data()
    base = PRODUCERS[name](y, x)
    moved = PRODUCERS[name](*_perturbed(y, x))
    changed_later = False
    for key, a in base.items():
        b = moved[key]
        first = first_change(np.asarray(a, float), np.asarray(b, float))
        assert first is None or first > CUT, f"{name} {key} changes at bar {first} <= {CUT}"
        changed_later |= first is not None
    assert changed_later, f"{name}: the perturbation after bar {CUT} changed nothing"
