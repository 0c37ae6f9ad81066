"""``statarb pair`` on a month of 1m bars (40,320 per leg), whole process.

Ours: the console script on a SQLite store holding the two legs (read, align, hedge ratio,
z-score, ADF of the spread, Engle-Granger both ways, half-life). Baseline, a whole process too:
numpy + pandas + statsmodels ``adfuller`` of the OLS spread and ``coint`` of the same closes
read from a ``.npy`` file (what a user would script by hand), at a fixed lag of 1: with
statsmodels' lag search (``autolag``, what ours does) the baseline takes about 58 s CPU.
Both are timed in the CPU seconds of the child process, alternating; ``python -c pass`` (the
interpreter's own start-up) is reported beside them. Target: ``statarb pair`` under 1.5 s CPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench._common import children_cpu, paired, report

N = 40_320
T0 = 1_769_904_000_000_000  # 2026-02-01 00:00 UTC
REPEAT = int(os.environ.get("STATARB_BENCH_REPEAT", 3))
STATARB = Path(sys.executable).with_name("statarb")

_BASELINE = r"""
import sys
import numpy as np
import pandas as pd
from statsmodels.tsa.stattools import adfuller, coint
y, x = np.load(sys.argv[1])
frame = pd.DataFrame({"y": y, "x": x})
beta, alpha = np.polyfit(frame.x, frame.y, 1)
spread = frame.y - beta * frame.x - alpha
z = (spread - spread.rolling(60).mean()) / spread.rolling(60).std()
adf = adfuller(spread, maxlag=1, autolag=None)[1]
print(adf, coint(frame.y, frame.x, maxlag=1, autolag=None)[1], z.iloc[-1])
"""


def _legs(seed: int = 18) -> tuple[np.ndarray, np.ndarray]:
    """Two cointegrated legs of 1m closes: a random walk and 1.5x it plus OU noise."""
    rng = np.random.default_rng(seed)
    x = 20 * np.exp(np.cumsum(rng.normal(0, 1e-3, N)))
    noise = np.zeros(N)
    shocks = rng.normal(0, 0.01, N)
    for k in range(1, N):
        noise[k] = 0.99 * noise[k - 1] + shocks[k]
    return 1.5 * x + 3 + noise, x


def _store(url: str, y: np.ndarray, x: np.ndarray) -> None:
    from statarb.model import BarBatch
    from statarb.store import open_store

    t = T0 + np.arange(N, dtype=np.int64) * 60_000_000
    st = open_store(url)
    for sym, close in (("AAAUSDT", y), ("BBBUSDT", x)):
        ones = np.ones(N)
        st.write_bars(
            BarBatch(
                sym, "1m", t, close, close, close, close, ones, close, np.ones(N, np.int64), ones
            )
        )
    st.close()


def main() -> None:
    """Run the benchmark and report the CPU seconds of each process and the ratio."""
    y, x = _legs()
    with tempfile.TemporaryDirectory(prefix="statarb-bench-cli-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'pair.db'}"
        _store(url, y, x)
        npy = Path(tmp) / "legs.npy"
        np.save(npy, np.vstack([y, x]))
        env = {**os.environ, "STATARB_STORE_URL": url}

        def ours() -> None:
            cmd = [str(STATARB), "pair", "AAAUSDT", "BBBUSDT", "--tf", "1m"]
            subprocess.run(cmd, env=env, check=True, capture_output=True)

        def baseline() -> None:
            cmd = [sys.executable, "-c", _BASELINE, str(npy)]
            subprocess.run(cmd, check=True, capture_output=True)

        def bare() -> None:
            subprocess.run([sys.executable, "-c", "pass"], check=True)

        t_ours, t_base, _ = paired(ours, baseline, repeat=REPEAT, clock=children_cpu)
        t_bare, _, _ = paired(bare, bare, repeat=REPEAT, clock=children_cpu)
        report(
            "cli",
            f"statarb pair on {N:,} 1m bars per leg (whole process, CPU s)",
            t_ours,
            t_base,
            ours_name="statarb pair",
            base_name="pandas + statsmodels adfuller + coint (lag 1)",
            target="target: statarb pair < 1.5 s CPU",
        )
        print(
            f"[cli] statarb pair {t_ours['median']:.2f} s CPU (target < 1.5 s); "
            f"python -c pass {t_bare['median']:.3f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
