"""Screenshots of the main dashboard views for README: ``statarb up --demo`` in headless Chromium.

Starts the demo (engine, API, dashboard) on free ports and a temporary store, waits until the
pair page shows the packaged history, and saves one PNG per view into ``docs/img/`` (1280x800,
palette-quantised to keep them small). It also prints how long the demo took from start to a
useful pair page.

Usage: ``.venv/bin/python scripts/screenshots.py [--out docs/img] [--chromium /usr/bin/chromium]``
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: (file name, url path, text that shows the view is drawn)
VIEWS = (
    ("overview.png", "", "Views"),
    ("pair.png", "pair", "Hedge ratio"),
    ("book.png", "book", "Sort by"),
    ("correlation.png", "correlation", "Pair scan"),
    ("backtest.png", "backtest", "Parameter sweep"),
    ("sweep.png", "backtest", "Parameter sweep"),
    ("market.png", "market", "Price statistics"),
    ("alerts.png", "alerts", "New rule"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    import httpx

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"statarb exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:g} s")


def shrink(path: Path) -> None:
    """Quantise to a 256-colour palette (a dashboard has few colours): ~3x smaller PNGs."""
    from PIL import Image

    img = Image.open(path).convert("RGB")
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    opts = parser.parse_args()
    from playwright.sync_api import sync_playwright

    opts.out.mkdir(parents=True, exist_ok=True)
    api_port, dash_port = free_port(), free_port()
    tmp = Path(tempfile.mkdtemp(prefix="statarb-shots-"))
    env = {**os.environ, "STATARB_API_TOKEN": "screenshots"}
    env.pop("STATARB_CONFIG", None)
    store = f"sqlite:///{tmp / 'demo.db'}"
    cmd = [sys.executable, "-m", "statarb.cli.main", "up", "--demo", "--port", str(api_port),
           "--dashboard-port", str(dash_port), "--store", store]  # fmt: skip
    t0 = time.monotonic()
    log = (tmp / "up.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{dash_port}"
        wait_http(f"{url}/_stcore/health", proc, 120)
        print(f"dashboard answers after {time.monotonic() - t0:.1f} s")
        wait_http(f"http://127.0.0.1:{api_port}/health", proc, 120)
        print(f"API answers after {time.monotonic() - t0:.1f} s")
        with sync_playwright() as pw:
            # Playwright gives the browser a fresh temporary profile of its own
            browser = pw.chromium.launch(executable_path=opts.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": opts.width, "height": opts.height})
            page.set_default_timeout(120_000)
            page.goto(f"{url}/pair")
            page.locator(".js-plotly-plot").first.wait_for()
            print(f"first pair chart after {time.monotonic() - t0:.1f} s")
            page.get_by_text("Hedge ratio").first.wait_for()
            ready = time.monotonic() - t0
            print(f"statarb up --demo: a useful pair page after {ready:.1f} s")
            for name, path, marker in VIEWS:
                page.goto(f"{url}/{path}")
                page.get_by_text(marker).first.wait_for()
                if page.locator(".js-plotly-plot").count() or path in ("pair", "correlation"):
                    page.locator(".js-plotly-plot").first.wait_for()
                page.wait_for_timeout(2500)  # let the charts finish drawing
                if name == "sweep.png":
                    page.get_by_role("button", name="Run sweep").click()
                    heat = page.locator(".js-plotly-plot").nth(1)
                    heat.wait_for()
                    page.wait_for_timeout(2500)
                    heat.scroll_into_view_if_needed()
                    page.mouse.wheel(0, 250)
                    page.wait_for_timeout(1000)
                target = opts.out / name
                page.screenshot(path=str(target))
                shrink(target)
                print(f"{target}: {target.stat().st_size:,} bytes")
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
