"""kill -9 of a real ``statarb serve`` holding an open paper position: the restart resumes it.

The engine is fed ticks through the REST ingest until the paper strategy holds a spread position,
then killed with SIGKILL. A new process on the same store must show the same position, orders and
fills; replaying the same ticks must add no fill; the ticks after it close the position once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from _ports import free_port
from statarb.cli.main import build_app

TOKEN = "kill9-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0_MS = 1_723_118_400_000
SMALL = {"window": 10, "z_window": 10, "coint_window": 20, "coint_every": 5, "drift_bars": 2}
pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")]


def _rows(n: int, spike: int) -> list[dict[str, Any]]:
    """Two legs, one tick a second each; leg a jumps at ``spike`` (a short-spread entry)."""
    rng = np.random.default_rng(5)
    x = 100.0 + np.cumsum(rng.normal(0, 0.1, n))
    y = 1.5 * x + 20 + rng.normal(0, 0.02, n)
    y[spike] += 1.0
    out = []
    for i in range(n):
        for sym, p, tid in (("AAAUSDT", y[i], 1 + i), ("BBBUSDT", x[i], 1 + i)):
            out.append({"symbol": sym, "ts": T0_MS + i * 1000, "price": round(float(p), 4),
                        "size": 1.0, "is_buyer_maker": i % 2 == 0, "trade_id": tid})  # fmt: skip
    return out


class _Server:
    def __init__(self, store: str, cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "STATARB_STORE_URL": store, "STATARB_API_TOKEN": TOKEN}
        exe = Path(sys.executable).parent / "statarb"
        self.proc = subprocess.Popen([str(exe), "serve", "--port", str(self.port)], env=env,
                                     cwd=cwd, stderr=subprocess.DEVNULL)  # fmt: skip

    def wait(self, path: str, until: Callable[[Any], bool]) -> Any:
        """Poll ``path`` until ``until(body)`` holds (the condition, not a count of seconds)."""
        while True:
            assert self.proc.poll() is None, "statarb serve exited"
            try:
                r = httpx.get(self.url + path, timeout=5)
                if r.status_code == 200 and until(r.json()):
                    return r.json()
            except (httpx.HTTPError, ValueError):
                pass
            with contextlib.suppress(subprocess.TimeoutExpired):  # pace polls on the process
                self.proc.wait(timeout=0.1)

    def get(self, path: str, **params: Any) -> Any:
        r = httpx.get(self.url + path, params=params, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, body: Any) -> Any:
        r = httpx.post(self.url + path, json=body, headers=AUTH, timeout=120)
        assert r.status_code < 300, r.text
        return r.json()

    def ledger(self) -> tuple[Any, Any, Any]:
        return (self.get("/api/v1/paper/positions"),
                self.get("/api/v1/paper/orders", limit=1000),
                self.get("/api/v1/paper/fills", limit=1000))  # fmt: skip


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[[], _Server]]:
    started: list[_Server] = []
    store = f"sqlite:///{tmp_path / 'paper.db'}"

    def start() -> _Server:
        s = _Server(store, tmp_path)
        started.append(s)
        s.wait("/health", lambda b: b.get("status") == "ok")
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.proc.send_signal(signal.SIGINT)
            try:
                s.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                s.proc.kill()
                s.proc.wait()


def test_kill_9_with_an_open_position_then_restart(servers: Callable[[], _Server]) -> None:
    rows = _rows(80, 50)
    first = servers()
    pid = first.post("/api/v1/book", {"a": "AAAUSDT", "b": "BBBUSDT", "timeframe": "1s",
                                      "settings": SMALL})["id"]  # fmt: skip
    res = CliRunner().invoke(
        build_app(), ["paper", "start", str(pid), "--entry", "2.5", "--api", first.url],
        env={"STATARB_API_TOKEN": TOKEN},
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    first.post("/api/v1/ticks/batch", rows[: 2 * 52])  # up to second 51: bar 50 closed
    first.wait("/api/v1/paper/fills", lambda b: len(b) == 2)
    before = first.wait("/api/v1/paper/positions", lambda b: b and b[0]["status"] == "open")
    assert before[0]["side"] == -1 and before[0]["qty_y"] < 0 < before[0]["qty_x"]
    ledger = first.ledger()
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()

    second = servers()
    second.wait("/api/v1/paper/status", lambda b: len(b["strategies"]) == 1)
    assert second.ledger() == ledger  # position, orders and fills exactly as they were
    second.post("/api/v1/ticks/batch?wait=true", rows[: 2 * 52])  # the same ticks again
    assert second.ledger() == ledger  # no decision, order or fill twice
    res = CliRunner().invoke(build_app(), ["paper", "status", "--api", second.url],
                             env={"STATARB_API_TOKEN": TOKEN})  # fmt: skip
    assert res.exit_code == 0 and "open" in res.output
    second.post("/api/v1/ticks/batch?wait=true", rows[2 * 52 :])
    pos = second.wait("/api/v1/paper/positions", lambda b: b[0]["trades"] >= 1)
    fills = second.get("/api/v1/paper/fills", limit=1000)
    ids = [f["fill_id"] for f in fills]
    assert len(ids) == len(set(ids)) and len(ids) == 4 * pos[0]["trades"] + (
        2 if pos[0]["status"] == "open" else 0
    )
    stop = ["paper", "stop", str(pid), "--flatten", "--api", second.url]
    res = CliRunner().invoke(build_app(), stop, env={"STATARB_API_TOKEN": TOKEN})
    assert res.exit_code == 0, res.output
