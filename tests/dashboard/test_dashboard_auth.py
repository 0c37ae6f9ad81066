"""Dashboard exposure: loopback bind by default, a login gate, no secret on any page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from statarb.config import Settings
from statarb.dashboard.auth import password_ok
from statarb.dashboard.launch import APP, check_exposure, dashboard_command
from statarb.errors import ConfigError

KINDS = ("title", "header", "subheader", "caption", "markdown", "text", "code", "error",
         "warning", "info", "success", "exception")  # fmt: skip


def _all_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in KINDS for e in getattr(at, kind))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STATARB_STORE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("STATARB_API_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("STATARB_CONFIG", raising=False)
    monkeypatch.delenv("STATARB_DASHBOARD_PASSWORD", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def test_binds_loopback_by_default_and_refuses_exposure_without_a_password() -> None:
    cmd = dashboard_command(Settings(), 8501)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    with pytest.raises(ConfigError, match="STATARB_DASHBOARD_PASSWORD"):
        dashboard_command(Settings(dashboard_host="0.0.0.0"), 8501)
    for host in ("::", "192.168.1.5", "dash.example.com"):
        with pytest.raises(ConfigError):
            check_exposure(Settings(dashboard_host=host))
    exposed = Settings(dashboard_host="0.0.0.0", dashboard_password="pw")
    cmd = dashboard_command(exposed, 8501)
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    check_exposure(Settings(dashboard_host="::1"))


def test_password_check() -> None:
    cfg = Settings(dashboard_password="s3cret")
    assert password_ok(cfg, "s3cret")
    assert not password_ok(cfg, "s3cre") and not password_ok(cfg, None)
    assert not password_ok(Settings(), "")  # no password configured: nothing matches


def test_login_gate_renders_nothing_before_the_password(
    env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATARB_DASHBOARD_PASSWORD", "s3cret")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["statarb"] and not at.caption  # no page, no sidebar
    at.text_input(key="statarb_password").input("wrong")
    at.button[0].click().run()
    assert "Wrong password." in _all_text(at) and [t.value for t in at.title] == ["statarb"]
    at.text_input(key="statarb_password").input("s3cret")
    at.button[0].click().run()
    assert not at.exception and "Live statistical-arbitrage analytics" in _all_text(at)


def test_exposed_without_password_serves_nothing(
    env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATARB_DASHBOARD_HOST", "0.0.0.0")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert "STATARB_DASHBOARD_PASSWORD" in _all_text(at) and not at.title


def test_no_page_shows_the_database_password(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATARB_STORE_URL", "postgresql://quant:hunter2@127.0.0.1:9/prices")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    shown = _all_text(at)
    assert "postgresql://quant:***@127.0.0.1:9/prices" in shown
    assert "hunter2" not in shown
    for page in ("data_source", "alerts", "pair", "correlation"):
        at.switch_page(f"views/{page}.py").run()
        assert "hunter2" not in _all_text(at), page
