"""The dashboard: pair page after a symbol change, live-panel refresh cost, memory over a live run.

1. Figures of the pair page for a day of 1 s bars (86,400 per leg: z-score with bands, spread,
   normalized prices, candlesticks with volume), built and serialized to the JSON the browser
   receives: ours (min/max decimation to <= 5,000 points per trace, display only) vs the same
   figures with every point. Target: a payload of ~1 MB instead of ~20 MB (what the browser
   must parse and draw), built no slower.
2. The pair page under Streamlit's AppTest on a SQLite store holding a day of 1 s bars of three
   symbols: a change of the hedge leg (new pair: store read, alignment, analysis, figures; data
   caches cleared) vs the bare work without any UI (load_aligned + the analysis). Target: the
   page adds little over the work itself, well under 2 s.
3. Live-panel refresh with no new bar: the page reads only the last bars of its window (the
   rest is kept) and its analysis is served from cache (what the fragment pays every 2 s) vs a
   refresh that reads the whole window again and recomputes everything.
4. Memory: ``statarb up --demo`` plus ``statarb dashboard`` with the pair page open in headless
   Chromium (live fragment every 2 s) for ``STATARB_BENCH_DASH_SECONDS`` (default 150); the
   dashboard server's RSS sampled every 5 s must stay flat (slope over the second half reported).
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench._common import RESULTS, measure, report

N = 86_400
T0 = 1_723_075_200_000_000  # 2024-08-08 00:00 UTC
SYMBOLS = ("AAAUSDT", "BBBUSDT", "CCCUSDT")
HAS_ANALYTICS = importlib.util.find_spec("statarb.analytics.pair") is not None


def _day_of_bars(url: str) -> None:
    """Three cointegrated legs of 1 s bars over one day, written to the store at ``url``."""
    from statarb.model import BarBatch
    from statarb.store import open_store

    rng = np.random.default_rng(11)
    base = 100 * np.exp(np.cumsum(rng.normal(0, 2e-4, N)))
    store = open_store(url)
    for i, sym in enumerate(SYMBOLS):
        noise = np.zeros(N)
        for k in range(1, N):  # OU noise, so the legs are cointegrated
            noise[k] = 0.995 * noise[k - 1] + rng.normal(0, 0.02)
        close = base * (1 + 0.5 * i) + noise
        open_ = np.r_[close[0], close[:-1]]
        spread = np.abs(rng.normal(0, 0.01, N))
        vol = rng.uniform(1, 50, N)
        store.write_bars(
            BarBatch(
                sym,
                "1s",
                T0 + np.arange(N, dtype=np.int64) * 1_000_000,
                open_,
                np.maximum(open_, close) + spread,
                np.minimum(open_, close) - spread,
                close,
                vol,
                vol * close,
                rng.integers(1, 40, N),
                vol * rng.uniform(0, 1, N),
            )
        )
    store.close()


def _pair_figures(closes: pd.DataFrame, bars: pd.DataFrame, *, full: bool) -> int:
    """Build and serialize the pair page's heavy figures; return the payload size in bytes."""
    from statarb.dashboard import figures as fg

    limit = N + 1 if full else fg.MAX_POINTS
    a, b = closes.columns
    y, x = closes[a].to_numpy(), closes[b].to_numpy()
    spr = y - np.polyfit(x, y, 1)[0] * x
    z = (spr - pd.Series(spr).rolling(60).mean()) / pd.Series(spr).rolling(60).std()
    figs = [
        fg.lines_figure(closes.index, {"spread": spr}, max_points=limit),
        fg.lines_figure(
            closes.index, {"z": z.to_numpy()}, hlines={"+e": 2, "-e": -2}, max_points=limit
        ),
        fg.lines_figure(
            closes.index,
            {c: closes[c].to_numpy() / closes[c].iloc[0] for c in closes},
            max_points=limit,
        ),
        fg.candlestick_figure(bars, max_bars=limit),
    ]
    return sum(len(f.to_json()) for f in figs)


def _bench_figures(url: str) -> None:
    from statarb.export import bars_frame
    from statarb.history import load_aligned, load_bars
    from statarb.store import open_store

    store = open_store(url, read_only=True)
    closes = load_aligned(store, SYMBOLS[:2], "1s").dropna()
    bars = bars_frame(load_bars(store, SYMBOLS[0], "1s"))
    store.close()
    ours, size = measure(lambda: _pair_figures(closes, bars, full=False), repeat=3)
    base, full_size = measure(lambda: _pair_figures(closes, bars, full=True), repeat=2)
    report(
        "dashboard",
        "pair figures, 1 day of 1s bars, built + JSON",
        ours,
        base,
        ours_name=f"decimated ({size / 1e6:.2f} MB)",
        base_name=f"every point ({full_size / 1e6:.1f} MB)",
        target="target: payload ~1 MB (the browser draws it), build no slower",
    )


def _analysis(store: Any, a: str, b: str) -> Any:
    from statarb.history import load_aligned

    closes = load_aligned(store, [a, b], "1s").dropna()
    if not HAS_ANALYTICS:
        return closes
    from statarb.analytics.pair import analyze_pair

    return analyze_pair(
        closes[a].to_numpy(),
        closes[b].to_numpy(),
        method="ols",
        window=None,
        bar_seconds=1.0,
        z_window=60,
    )


def _bench_page(url: str) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from statarb.dashboard.launch import APP
    from statarb.store import open_store

    os.environ["STATARB_STORE_URL"] = url
    os.environ["STATARB_API_URL"] = "http://127.0.0.1:9"
    at = AppTest.from_file(str(APP.parent / "views" / "pair.py"), default_timeout=300)
    at.run()
    at.selectbox(key="pa_tf").set_value("1s").run()
    at.selectbox(key="pa_lb").set_value("all").run()
    legs = iter([SYMBOLS[2], SYMBOLS[1]] * 10)

    from statarb.dashboard import analysis, data

    def change() -> None:
        st.cache_data.clear()
        data._live_frames.clear()
        at.selectbox(key="pa_b").set_value(next(legs)).run()
        if at.exception:
            raise RuntimeError(at.exception[0].value)

    cpu0 = time.process_time()
    ours, _ = measure(change, repeat=4)
    cpu_ours = (time.process_time() - cpu0) / 5  # measure() runs one warm-up call
    store = open_store(url, read_only=True)
    cpu0 = time.process_time()
    base, _ = measure(lambda: _analysis(store, SYMBOLS[0], SYMBOLS[1]), repeat=4)
    cpu_base = (time.process_time() - cpu0) / 5
    print(
        f"[dashboard] pair page after a leg change: {cpu_ours:.2f} s CPU per change (the "
        f"script thread included) vs the bare work {cpu_base:.2f} s CPU",
        flush=True,
    )
    what = "load + analyze_pair" if HAS_ANALYTICS else "load_aligned (analytics not built yet)"
    report(
        "dashboard",
        "pair page after a leg change (AppTest, 86,400 1s bars)",
        ours,
        base,
        ours_name="page",
        base_name=f"bare {what}",
        target="target: < 2 s, ratio near 1",
    )

    def refresh() -> None:
        at.run()  # what the fragment does every 2 s: read the newest bars, reuse the analysis

    warm, _ = measure(refresh, repeat=4)

    def new_bar() -> None:
        analysis.pair_view.clear()  # a new bar: the series are recomputed, the slow tests are not
        at.run()

    fresh, _ = measure(new_bar, repeat=3)
    cold, _ = measure(
        lambda: (st.cache_data.clear(), data._live_frames.clear(), at.run()), repeat=3
    )
    report(
        "dashboard",
        "live refresh, no new bar (tail read, cached analysis)",
        warm,
        cold,
        ours_name="cached analysis",
        base_name="full recompute",
        target="target: well under the 2 s refresh period",
    )
    report(
        "dashboard",
        "live refresh, new bar (series recomputed, tests cached)",
        fresh,
        cold,
        ours_name="series only",
        base_name="full recompute",
        target="target: under the 2 s refresh period",
    )
    store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _server_pid(cli_pid: int) -> int:
    kids = Path(f"/proc/{cli_pid}/task/{cli_pid}/children").read_text().split()
    return int(kids[0]) if kids else cli_pid


def _bench_memory(tmp: Path) -> None:
    import httpx
    from playwright.sync_api import sync_playwright

    seconds = float(os.environ.get("STATARB_BENCH_DASH_SECONDS", "150"))
    if not Path("/usr/bin/chromium").exists():
        print("[dashboard] memory run skipped: /usr/bin/chromium is missing", flush=True)
        return
    api_port, dash_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "STATARB_API_TOKEN": "bench",
        "STATARB_STORE_URL": f"sqlite:///{tmp / 'demo.db'}",
        "STATARB_API_URL": f"http://127.0.0.1:{api_port}",
    }
    cli = [sys.executable, "-m", "statarb.cli.main"]
    procs = [
        subprocess.Popen(
            [*cli, "up", "--demo", "--speed", "4", "--port", str(api_port), "--no-dashboard"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [*cli, "dashboard", "--port", str(dash_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    samples: list[tuple[float, float]] = []
    try:
        url = f"http://127.0.0.1:{dash_port}"
        for _ in range(120):
            try:
                if httpx.get(f"{url}/_stcore/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        time.sleep(8)  # some bars in the store
        pid = _server_pid(procs[1].pid)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
            page = browser.new_page()
            page.goto(f"{url}/pair")
            t0 = time.monotonic()
            while (elapsed := time.monotonic() - t0) < seconds:
                samples.append((elapsed, _rss_mb(pid)))
                page.wait_for_timeout(5000)
            browser.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=15)
    t = np.array([s[0] for s in samples])
    rss = np.array([s[1] for s in samples])
    half = t >= t[-1] / 2
    slope = float(np.polyfit(t[half] / 60, rss[half], 1)[0]) if half.sum() > 2 else float("nan")
    line = (
        f"[dashboard] RSS over {t[-1]:.0f} s live (pair page open, 4x demo): first "
        f"{rss[0]:.0f} MB, max {rss.max():.0f} MB, last {rss[-1]:.0f} MB, second-half slope "
        f"{slope:+.2f} MB/min (target: flat, |slope| < ~1 MB/min)"
    )
    print(line, flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write(
            json.dumps(
                {
                    "bench": "dashboard",
                    "task": "rss live run",
                    "samples_mb": rss.round(1).tolist(),
                    "slope_mb_per_min": slope,
                    "time": time.time(),
                }
            )
            + "\n"
        )


def main() -> None:
    """Run the dashboard benchmarks and print one line per measurement."""
    with tempfile.TemporaryDirectory(prefix="statarb-bench-dash-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'day.db'}"
        _day_of_bars(url)
        _bench_figures(url)
        _bench_page(url)
        _bench_memory(Path(tmp))


if __name__ == "__main__":
    main()
