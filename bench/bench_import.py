"""File import: whole-process ``statarb import`` of a 1M-row Binance aggTrades CSV into SQLite.

Baseline, measured in the same run as a whole process too: pandas ``read_csv`` and one sqlite3
``executemany`` transaction into a table with the same unique key (symbol, trade_id). The two
alternate; timed in wall seconds and in the CPU seconds of the child process (what counts on a
loaded machine). Ours also keeps the closed bars of the live timeframes (``statarb import``
does). Target: >= 2x the baseline. ``STATARB_BENCH_IMPORT_ROWS`` (default 1M) and
``STATARB_BENCH_REPEAT`` (default 3) set the size.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench._common import children_cpu, paired, report

ROWS = int(os.environ.get("STATARB_BENCH_IMPORT_ROWS", 1_000_000))
REPEAT = int(os.environ.get("STATARB_BENCH_REPEAT", 3))
ROOT = Path(__file__).resolve().parents[1]
STATARB = Path(sys.executable).with_name("statarb")

_BASELINE = r"""
import sqlite3, sys
import pandas as pd
path, db = sys.argv[1], sys.argv[2]
df = pd.read_csv(path)
con = sqlite3.connect(db)
con.execute("PRAGMA journal_mode = WAL")
con.execute("PRAGMA synchronous = NORMAL")
con.execute(
    "CREATE TABLE ticks (symbol TEXT, trade_id INTEGER, ts INTEGER, price REAL, size REAL, "
    "side INTEGER, PRIMARY KEY (symbol, trade_id))"
)
rows = zip(
    ["BTCUSDT"] * len(df),
    df["agg_trade_id"].tolist(),
    (df["transact_time"] * 1000).tolist(),
    df["price"].tolist(),
    df["quantity"].tolist(),
    df["is_buyer_maker"].astype(int).tolist(),
)
with con:
    con.executemany("INSERT OR IGNORE INTO ticks VALUES (?, ?, ?, ?, ?, ?)", rows)
con.close()
"""


def write_aggtrades(path: Path, n: int = ROWS, seed: int = 20240601) -> None:
    """A Binance USD-M aggTrades CSV (with header) of ``n`` rows: random-walk prices."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1989156011, 1989156011 + n)
    t = 1704067200000 + np.cumsum(rng.exponential(50.0, n)).astype(np.int64)
    price = np.round(42000 + np.cumsum(rng.normal(0, 0.5, n)), 1)
    qty = np.round(rng.exponential(0.05, n), 3) + 0.001
    first = 4439468813 + np.arange(n) * 2
    maker = np.where(rng.random(n) < 0.5, "true", "false")
    with path.open("w") as fh:
        fh.write(
            "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
        )
        step = 100_000
        for s in range(0, n, step):
            e = min(n, s + step)
            lines = [
                f"{i},{p:.1f},{q:.3f},{f},{f + 1},{ts},{m}"
                for i, p, q, f, ts, m in zip(
                    ids[s:e].tolist(),
                    price[s:e].tolist(),
                    qty[s:e].tolist(),
                    first[s:e].tolist(),
                    t[s:e].tolist(),
                    maker[s:e].tolist(),
                    strict=True,
                )
            ]
            fh.write("\n".join(lines) + "\n")


def _fresh(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def main() -> None:
    """Run the benchmark and report rows/s and the ratio against the baseline."""
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "BTCUSDT-aggTrades-2024-01-01.csv"
        write_aggtrades(csv)
        db = Path(tmp) / "bench.db"
        env = {**os.environ, "STATARB_STORE_URL": f"sqlite:///{db}"}

        def ours() -> None:
            _fresh(db)
            subprocess.run(
                [str(STATARB), "import", str(csv)], env=env, check=True, capture_output=True
            )

        def baseline() -> None:
            _fresh(db)
            subprocess.run([sys.executable, "-c", _BASELINE, str(csv), str(db)], check=True)

        w_ours, w_base, _ = paired(ours, baseline, repeat=REPEAT)
        print(f"[import] wall: ours {w_ours['median']:.2f}s, baseline {w_base['median']:.2f}s "
              f"-> {w_base['median'] / w_ours['median']:.2f}x", flush=True)  # fmt: skip
        t_ours, t_base, _ = paired(ours, baseline, repeat=REPEAT, clock=children_cpu)
        ratio = report(
            "import",
            f"statarb import {ROWS:,}-row aggTrades CSV -> SQLite (whole process, CPU s)",
            t_ours,
            t_base,
            ours_name="statarb import",
            base_name="pandas read_csv + sqlite3 executemany",
            target=">= 2x (CPU time)",
            items=ROWS,
        )
        rate = ROWS / t_ours["median"]
        print(f"[import] {rate:,.0f} rows/s, {ratio:.2f}x baseline", flush=True)


if __name__ == "__main__":
    main()
