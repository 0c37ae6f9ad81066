"""Compile the numba kernels once, ahead of first use: ``python -m statarb.warm``.

The kernels are compiled with ``cache=True``, so numba keeps them on disk next to their modules.
A fresh install that runs this once (``make setup`` does) starts the dashboard, the engine and the
CLI with warm caches: the first pair page then costs seconds less. Each step runs on a small
synthetic pair; a failing step is reported and the others still run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def _pair(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = 100.0 + np.cumsum(rng.normal(0.0, 0.1, n))
    return 0.5 * x + rng.normal(0.0, 0.1, n), x


def _bars() -> None:
    from statarb.ingest.warm import warm_bar_kernels

    warm_bar_kernels()


def _analytics() -> None:
    from statarb.analytics.pair import analyze_pair
    from statarb.analytics.regression import rolling_hedge_ratio
    from statarb.analytics.spread import zscore

    y, x = _pair()
    for method in ("ols", "kalman"):
        analyze_pair(y, x, method=method, bar_seconds=60.0, z_window=60)
    rolling_hedge_ratio(y, x, window=60)
    zscore(np.r_[np.nan, y], window=30)


def _backtest() -> None:
    from statarb.backtest import BacktestConfig, run_backtest

    y, x = _pair()
    for method in ("rolling-ols", "kalman"):
        run_backtest(y, x, config=BacktestConfig(window=30, method=method))


def _scan() -> None:
    import pandas as pd

    from statarb.analytics.scan import scan_pairs

    y, x = _pair()
    scan_pairs(pd.DataFrame({"A": y, "B": x, "C": x + np.sin(np.arange(len(x)))}))


STEPS: dict[str, Callable[[], None]] = {
    "bars": _bars,
    "analytics": _analytics,
    "backtest": _backtest,
    "scan": _scan,
}


def warm_all() -> dict[str, float | str]:
    """Run every step; seconds per step, or the error of a step that failed."""
    out: dict[str, float | str] = {}
    for name, step in STEPS.items():
        t0 = time.perf_counter()
        try:
            step()
        except Exception as exc:  # a warm-up failure costs only the saved seconds
            out[name] = f"failed: {type(exc).__name__}: {exc}"
            continue
        out[name] = round(time.perf_counter() - t0, 2)
    return out


def main() -> None:
    """Print what was compiled and how long it took."""
    res = warm_all()
    print("compiled kernels: " + ", ".join(f"{k} {v}" + ("" if isinstance(v, str) else " s")
                                           for k, v in res.items()))  # fmt: skip


if __name__ == "__main__":
    main()
