"""End to end in headless Chromium: the engine on the replayed sample, the dashboard beside it.

Checks that the pair page draws charts from live data (and refreshes them by itself) and that a
rule created through the Alerts form fires and shows up in the browser. Screenshots go to
``$STATARB_ARTIFACTS`` (or ``artifacts/`` in the test's temporary folder).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from _ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
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
TOKEN = "browser-test-token"
STATARB = [sys.executable, "-m", "statarb.cli.main"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


def _wait(cond, what: str, timeout: float, procs: list[subprocess.Popen[bytes]]) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for p in procs:
            assert p.poll() is None, f"{p.args} exited with {p.returncode} while waiting for {what}"
        try:
            value = cond()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("STATARB_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[tuple[str, str]]:
    """``statarb up --demo`` and ``statarb dashboard`` on free ports and a temporary store."""
    tmp_path = tmp_path_factory.mktemp("stack")
    api_port, dash_port = free_port(), free_port()
    store = f"sqlite:///{tmp_path / 'demo.db'}"
    api = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "STATARB_API_TOKEN": TOKEN,
        "STATARB_STORE_URL": store,
        "STATARB_API_URL": api,
        "STATARB_DASHBOARD_PORT": str(free_port()),
    }
    env.pop("STATARB_CONFIG", None)
    logs = [open(artifacts / name, "wb") for name in ("engine.log", "dashboard.log")]  # noqa: SIM115
    procs = [
        subprocess.Popen(
            [
                *STATARB,
                "up",
                "--demo",
                "--speed",
                "20",
                "--demo-clock",
                "original",  # bars at 20 per second (today's clock paces them at 1 per second)
                "--port",
                str(api_port),
                "--store",
                store,
                "--no-dashboard",
            ],
            env=env,
            stdout=logs[0],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [*STATARB, "dashboard", "--port", str(dash_port)],
            env=env,
            stdout=logs[1],
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        _wait(lambda: httpx.get(f"{api}/health").status_code == 200, "the engine", 120, procs)
        url = f"http://127.0.0.1:{dash_port}"
        _wait(
            lambda: httpx.get(f"{url}/_stcore/health").status_code == 200,
            "the dashboard",
            30,
            procs,
        )

        def enough_bars() -> bool:
            rows = httpx.get(f"{api}/api/v1/symbols").json()
            live = [r for r in rows if r["symbol"] in ("BTCUSDT", "ETHUSDT")]
            return len(live) == 2 and all(r["bars"].get("1s", 0) >= 80 for r in live)

        _wait(enough_bars, "80 one-second bars of both legs", 40, procs)
        yield url, api
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for fh in logs:
            fh.close()


def _pick(page: object, label: str, option: str) -> None:
    """Choose ``option`` in the Streamlit selectbox labelled ``label``."""
    box = page.locator("[data-testid=stSelectbox]").filter(has_text=label).first  # type: ignore[attr-defined]
    box.click()
    # long option lists are virtualised: type to filter so the option is in the page
    box.locator("input").first.fill(option)
    page.get_by_role("option", name=option, exact=True).click()  # type: ignore[attr-defined]


def _caption(page: object, pattern: str) -> re.Match[str] | None:
    for text in page.locator("[data-testid=stCaptionContainer]").all_inner_texts():  # type: ignore[attr-defined]
        m = re.search(pattern, text)
        if m:
            return m
    return None


def test_pair_page_live_and_alert_from_the_ui(stack: tuple[str, str], artifacts: Path) -> None:

    from playwright.sync_api import sync_playwright

    url, api = stack
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(30_000)
        page.goto(f"{url}/pair")
        # the pair page opens on the packaged history; the live legs are one pick away
        page.wait_for_selector(".js-plotly-plot", timeout=180_000)  # first: a week of 1m bars
        _pick(page, "Leg Y", "BTCUSDT")
        _pick(page, "Leg X (hedge)", "ETHUSDT")
        _pick(page, "Timeframe", "1s")
        _pick(page, "Lookback", "1 hour")
        try:
            first = _wait(
                lambda: _caption(page, r"([\d,]+) aligned 1s bars up to (\S+ \S+)"),
                "the pair caption",
                60,
                [],
            )
        finally:
            page.screenshot(path=str(artifacts / "pair-live.png"), full_page=True)
        assert int(first.group(1).replace(",", "")) >= 62  # type: ignore[union-attr]
        # the demo streams the kline symbols too (sorted: ALGOUSDT, AVAXUSDT, BTCUSDT, ...)
        _wait(lambda: _caption(page, r"connected: [A-Z, ]*BTCUSDT, [A-Z, ]*ETHUSDT"), "feed status",
              60, [])  # fmt: skip
        assert _caption(page, r"BTCUSDT, ETHUSDT: replayed from a local venue")
        # the live fragment redraws with newer bars without any click
        later = _wait(
            lambda: (
                (m := _caption(page, r"([\d,]+) aligned 1s bars up to (\S+ \S+)"))
                and m.group(2) > first.group(2)
                and m
            ),
            "a live refresh",
            20,
            [],
        )  # type: ignore[union-attr]
        charts = page.locator(".js-plotly-plot").count()
        page.get_by_text("Hedge ratio").first.wait_for()
        assert charts >= 5
        page.screenshot(path=str(artifacts / "pair.png"), full_page=True)
        assert later

        page.goto(f"{url}/alerts")
        page.get_by_label("Name").fill("eth trades")
        page.get_by_label("Target").fill("ETHUSDT")
        page.get_by_label("Target").press("Enter")  # Enter does not submit a half-built rule
        _pick(page, "Metric", "price")
        _pick(page, "Timeframe", "tick")
        page.get_by_label("Threshold").fill("0")
        page.get_by_role("spinbutton", name="Cooldown (s)").fill("0")
        page.get_by_role("button", name="Create rule").click()
        created = page.get_by_text(re.compile(r"Rule \d+ created: price\(ETHUSDT, tick\) > 0"))
        created.wait_for()
        rule_id = int(re.search(r"Rule (\d+)", created.inner_text()).group(1))  # type: ignore[union-attr]
        toast = page.locator("[data-testid=stToast]").filter(has_text=f"Alert {rule_id}:")
        toast.first.wait_for(timeout=20_000)
        page.screenshot(path=str(artifacts / "alerts.png"), full_page=True)
        browser.close()
    events = httpx.get(f"{api}/api/v1/alerts/history", params={"rule_id": rule_id}).json()
    assert events and events[0]["rule_id"] == rule_id


def _settled(page: object) -> None:
    """Wait until the app has finished running its script (the status widget is gone)."""
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=60_000)  # type: ignore[attr-defined]


def test_every_path_renders_without_not_found_or_traceback(
    stack: tuple[str, str], artifacts: Path
) -> None:
    from playwright.sync_api import sync_playwright

    from statarb.dashboard.app import VIEWS

    url, _api = stack
    paths = list(dict.fromkeys(["", *(p for *_rest, p in VIEWS)]))  # "" = the overview
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        for path in paths:
            page.goto(f"{url}/{path}")
            page.locator("h1").first.wait_for()
            _settled(page)
            body = page.locator("body").inner_text()
            name = path or "root"
            page.screenshot(path=str(artifacts / f"sweep-{name}.png"))
            assert "Page not found" not in body, name
            assert "Traceback" not in body, name
            assert page.locator("[data-testid=stException]").count() == 0, name
        browser.close()
