"""The notebook client: a 30-day 1-minute request of two symbols over HTTP.

``statarb.client.Client.bars`` (Arrow IPC stream, ``format=arrow``) against the plain notebook
way in the same run: ``httpx.get`` of the JSON rows of each symbol and ``pandas.DataFrame`` of
them with a UTC index. A live ``statarb serve`` app (uvicorn on a free port, SQLite store holding
the bars) answers both. Target: the client under 2 s for the request (43,200 bars per symbol).
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import uvicorn

from bench._common import measure, report
from statarb.api import create_app
from statarb.client import Client
from statarb.config import Settings
from statarb.model import BarBatch
from statarb.store import open_store

DAYS = 30
T0_US = 1_722_470_400_000_000  # 2024-08-01T00:00:00Z
SYMBOLS = ("BTCUSDT", "ETHUSDT")


def _bars(symbol: str, seed: int) -> BarBatch:
    n = DAYS * 1440
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    open_ = np.r_[close[0], close[:-1]]
    high, low = np.maximum(open_, close) * 1.0005, np.minimum(open_, close) * 0.9995
    vol = rng.uniform(1, 100, n)
    return BarBatch(symbol, "1m", T0_US + np.arange(n, dtype=np.int64) * 60_000_000, open_, high,
                    low, close, vol, vol * close, rng.integers(1, 500, n), vol / 2)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _json_way(url: str) -> pd.DataFrame:
    frames = {}
    for sym in SYMBOLS:
        rows = httpx.get(f"{url}/api/v1/bars/{sym}", params={"tf": "1m", "start": "2024-08-01",
                         "end": "2024-08-31"}, timeout=120).json()  # fmt: skip
        df = pd.DataFrame(rows)
        df.index = pd.to_datetime(df.pop("open_time"), unit="us", utc=True)
        frames[sym] = df
    return pd.concat(frames, axis=1)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="statarb-bench-client-") as tmp:
        url_db = f"sqlite:///{Path(tmp) / 'bars.db'}"
        store = open_store(url_db)
        for i, sym in enumerate(SYMBOLS):
            store.write_bars(_bars(sym, i))
        store.close()
        app = create_app(Settings(store_url=url_db, timeframes=["1m"]))
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="error"))  # fmt: skip
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        while not server.started:
            time.sleep(0.05)
        try:
            with Client(url) as c:
                ours, frame = measure(
                    lambda: c.bars(SYMBOLS, "1m", start="2024-08-01", end="2024-08-31"),
                    repeat=5,
                    warmup=2,
                )
            base, ref = measure(lambda: _json_way(url), repeat=3)
            assert len(frame) == len(ref) == DAYS * 1440, (len(frame), len(ref))
            np.testing.assert_array_equal(frame[("ETHUSDT", "close")], ref[("ETHUSDT", "close")])
            report("client", f"{DAYS} days of 1m bars x {len(SYMBOLS)} symbols", ours, base,
                   ours_name="Client.bars (Arrow)", base_name="httpx JSON + DataFrame",
                   target=f"client {ours['median']:.2f} s (target < 2 s)",
                   items=len(frame) * len(SYMBOLS))  # fmt: skip
        finally:
            server.should_exit = True
            thread.join(10)


if __name__ == "__main__":
    main()
