"""The launcher's command line and environment, and the alert-rule form model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from statarb.alerts.rules import parse_rule
from statarb.config import Settings
from statarb.dashboard.launch import APP, dashboard_command, dashboard_env
from statarb.dashboard.rule_form import build_rule, condition_dict
from statarb.errors import AlertRuleError, InputError


def test_command_runs_streamlit_headless_on_the_port() -> None:
    cmd = dashboard_command(Settings(), 8765)
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(APP)]
    opts = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert opts["--server.port"] == "8765"
    assert opts["--server.headless"] == "true"
    assert opts["--browser.gatherUsageStats"] == "false"
    assert APP.is_file()


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_command_rejects_bad_ports(port: int) -> None:
    with pytest.raises(InputError, match=str(port)):
        dashboard_command(Settings(), port)


def test_env_carries_every_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATARB_API_TOKEN", raising=False)
    cfg = Settings(
        store_url="sqlite:////tmp/x.db",
        api_url="http://127.0.0.1:9001",
        symbols=["BTCUSDT", "ETHUSDT"],
    )
    monkeypatch.setenv("STATARB_API_TOKEN", "stale")
    env = dashboard_env(cfg)
    assert env["STATARB_STORE_URL"] == "sqlite:////tmp/x.db"
    assert env["STATARB_API_URL"] == "http://127.0.0.1:9001"
    assert "STATARB_API_TOKEN" not in env  # None in the settings wins over the parent's value
    for key in ("STATARB_STORE_URL", "STATARB_API_URL", "STATARB_SYMBOLS", "STATARB_TIMEFRAMES"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.delenv("STATARB_API_TOKEN")
    assert Settings() == cfg


def test_rule_form_builds_an_and_group_the_engine_parses() -> None:
    conds = [
        condition_dict("zscore", "btcusdt/ethusdt", "1m", ">=", 2, 0.5),
        condition_dict("price", "BTCUSDT", "tick", ">", 60_000, 0),
    ]
    rule = build_rule(
        "wide",
        "and",
        conds,
        cooldown_seconds=30,
        webhooks=[
            {"kind": "slack", "url": "https://hooks.example/x", "secret": ""},
            {"kind": "custom", "url": ""},
        ],
    )
    assert rule["condition"]["op"] == "and"
    assert rule["condition"]["children"][1] == {
        "metric": "price",
        "target": "BTCUSDT",
        "operator": ">",
        "threshold": 60000.0,
        "hysteresis": 0.0,
        "timeframe": None,
    }
    assert rule["webhooks"] == [{"kind": "slack", "url": "https://hooks.example/x"}]
    parsed = parse_rule(rule)
    assert sorted(parsed.metric_keys()) == ["price:BTCUSDT:tick", "zscore:BTCUSDT/ETHUSDT:1m"]


def test_rule_form_single_condition_is_not_a_group() -> None:
    rule = build_rule("p", "or", [condition_dict("price", "BTCUSDT", "tick", "<", 1.0, 0.0)])
    assert "op" not in rule["condition"] and rule["condition"]["metric"] == "price"


def test_rule_form_names_the_bad_field() -> None:
    conds = [
        condition_dict("price", "BTCUSDT", "tick", ">", 1, 0),
        condition_dict("volume", "BTCUSDT", "tick", ">", 1, 0),
    ]
    with pytest.raises(AlertRuleError, match=r"condition\.children\[1\]\.timeframe"):
        build_rule("x", "or", conds)
    with pytest.raises(AlertRuleError, match="name"):
        build_rule(" ", "or", conds[:1])


def test_cli_serves_the_dashboard_and_takes_it_down_on_sigterm(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATARB_")}
    cmd = [
        sys.executable,
        "-m",
        "statarb.cli.main",
        "dashboard",
        "--port",
        str(port),
        "--store",
        f"sqlite:///{tmp_path / 'x.db'}",
        "--api-url",
        "http://127.0.0.1:9",
    ]
    cli = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)  # fmt: skip
    try:
        end = time.monotonic() + 30
        while True:
            assert cli.poll() is None, cli.stderr.read() if cli.stderr else b""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_stcore/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < end, "the dashboard did not answer within 30 s"
            time.sleep(0.2)
        children = Path(f"/proc/{cli.pid}/task/{cli.pid}/children").read_text().split()
        assert len(children) == 1
        cli.terminate()
        assert cli.wait(timeout=15) == 0
        assert not Path(f"/proc/{children[0]}").exists() or _zombie(int(children[0]))
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    err = cli.stderr.read().decode() if cli.stderr else ""
    assert f"dashboard on http://127.0.0.1:{port}" in err


def _zombie(pid: int) -> bool:
    return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
