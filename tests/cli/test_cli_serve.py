"""``statarb serve`` and ``statarb up --demo`` as real processes on free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from _ports import free_port
from statarb.sample import DEMO_SYMBOLS


def _start(args: list[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
    full = {**os.environ, **env}
    if "STATARB_API_TOKEN" not in env:
        full.pop("STATARB_API_TOKEN", None)
    exe = Path(sys.executable).parent / "statarb"
    return subprocess.Popen([str(exe), *args], env=full, cwd=cwd, stderr=subprocess.PIPE, text=True)


def _wait(url: str, until: Any, tries: int = 300) -> Any:
    for _ in range(tries):
        try:
            body = httpx.get(url, timeout=2).json()
            if until(body):
                return body
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never satisfied the condition")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def test_serve_runs_uvicorn_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    proc = _start(
        ["serve", "--port", str(port)],
        tmp_path,
        STATARB_STORE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    try:
        body = _wait(f"http://127.0.0.1:{port}/health", lambda b: b.get("status") == "ok")
        assert body["engine"] is True
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/ticks", json={})
        assert r.status_code == 403 and "STATARB_API_TOKEN" in r.json()["detail"]
    finally:
        err = _stop(proc)
    assert "STATARB_API_TOKEN" in err and f"127.0.0.1:{port}" in err


def test_up_demo_streams_the_sample_through_the_engine(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(
        ["up", "--demo", "--speed", "20", "--port", str(port), "--no-dashboard"],
        tmp_path,
        STATARB_API_TOKEN="t",
        STATARB_FLUSH_INTERVAL="0.05",
    )
    try:
        both = {"BTCUSDT", "ETHUSDT"}
        assert _wait(base + "/api/v1/symbols", lambda b: {s["symbol"] for s in b} >= both)
        feeds = httpx.get(base + "/api/v1/feeds").json()
        streamed = sorted(DEMO_SYMBOLS)  # the recording's two and the kline tapes' seven
        assert feeds["feeds"][0]["symbols"] == streamed
        assert feeds["engine"]["pairs"] == ["BTCUSDT/ETHUSDT"]
        book = httpx.get(base + "/api/v1/book").json()
        assert len(book) == 50  # the demo seeds the empty book
        r = httpx.request(
            "DELETE",
            base + "/api/v1/feeds",
            json={"symbols": ["ETHUSDT"]},
            headers={"Authorization": "Bearer t"},
        )
        assert r.status_code == 200 and r.json()["symbols"] == ["ETHUSDT"]
        assert r.json()["feeds"][0]["symbols"] == [x for x in streamed if x != "ETHUSDT"]
        metrics = httpx.get(base + "/metrics").text
        assert 'statarb_latency_seconds_count{stage="receipt"}' in metrics
    finally:
        err = _stop(proc)
    assert "demo: replaying the packaged sample" in err
    assert "generated an API token" not in err  # one was configured
    assert (tmp_path / "data" / "demo.db").is_file()


def test_up_makes_a_session_token_when_none_is_set(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(
        ["up", "--port", str(port), "--no-dashboard"],
        tmp_path,
        STATARB_STORE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    try:
        _wait(base + "/health", lambda b: b.get("status") == "ok")
        path = tmp_path / "data" / "api-token"
        token = path.read_text().strip()
        assert len(token) >= 24
        assert path.stat().st_mode & 0o777 == 0o600
        r = httpx.post(
            base + "/api/v1/ticks", json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 422  # the token from the file is the one in force
    finally:
        err = _stop(proc)
    assert str(path) in err and token not in err  # says where, never prints it


def test_run_plans_the_demo_when_binance_is_out_of_reach():
    from statarb.cli.run import binance_reachable, plan_start
    from statarb.config import Settings

    assert not binance_reachable("http://127.0.0.1:9", timeout=0.5)
    cfg = Settings(binance_rest_url="http://127.0.0.1:9")
    offline = plan_start(cfg, reachable=False)
    assert offline["kwargs"]["demo"] is True
    assert offline["kwargs"]["dashboard_port"] == cfg.dashboard_port
    assert offline["kwargs"]["store_url"] == "sqlite:///data/demo.db"
    assert "offline demo" in offline["message"]
    live = plan_start(Settings(store_url="sqlite:///x.db"), reachable=True, dashboard=False)
    assert live["kwargs"]["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert (
        live["kwargs"]["store_url"] == "sqlite:///x.db" and live["kwargs"]["dashboard_port"] is None
    )
    configured = plan_start(Settings(store_url="sqlite:///mine.db"), reachable=False)
    assert configured["kwargs"]["store_url"] == "sqlite:///mine.db"


def _listening(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for name in ("tcp", "tcp6"):
        path = Path(f"/proc/net/{name}")
        for line in path.read_text().splitlines()[1:] if path.exists() else []:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                raw = bytes.fromhex(addr)
                if name == "tcp":
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_up_refuses_an_exposed_dashboard_without_a_password(tmp_path: Path) -> None:
    proc = _start(["up", "--port", str(free_port()), "--dashboard-port", str(free_port())],
                  tmp_path, STATARB_DASHBOARD_HOST="0.0.0.0")  # fmt: skip
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "STATARB_DASHBOARD_PASSWORD" in err
    assert not (tmp_path / "data" / "api-token").exists()  # nothing started, nothing written


def test_up_starts_the_dashboard_and_takes_it_down_even_when_killed(tmp_path: Path) -> None:

    port, dash = free_port(), free_port()
    proc = _start(
        ["up", "--port", str(port), "--dashboard-port", str(dash)],
        tmp_path,
        STATARB_STORE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    try:
        _wait(f"http://127.0.0.1:{port}/health", lambda b: b.get("status") == "ok")
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{dash}/_stcore/health", timeout=2).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the dashboard never answered")
        assert _listening(dash) == {"127.0.0.1"}  # loopback only, as the banner says
    finally:
        proc.kill()  # no chance to clean up: the dashboard must still go
        proc.communicate(timeout=30)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", dash)) != 0:
                return
        time.sleep(0.1)
    raise AssertionError("the dashboard outlived a killed `statarb up`")


def test_up_on_a_busy_port_names_the_options(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        api = _start(["up", "--port", str(port), "--no-dashboard"], tmp_path,
                     STATARB_STORE_URL=f"sqlite:///{tmp_path / 'a.db'}")  # fmt: skip
        _out, err = api.communicate(timeout=60)
        assert api.returncode == 2 and f"API port 127.0.0.1:{port} is in use" in err, err
        assert "--port N" in err
        free = free_port()
        dash = _start(["up", "--port", str(free), "--dashboard-port", str(port)], tmp_path,
                      STATARB_STORE_URL=f"sqlite:///{tmp_path / 'b.db'}")  # fmt: skip
        _out, err = dash.communicate(timeout=60)
        assert dash.returncode == 2 and "--dashboard-port N" in err, err
