"""A real engine (``statarb serve`` on a free port and a temporary store) for dashboard tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import streamlit as st

TOKEN = "dashboard-test-token"


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The engine's API URL; the dashboard's settings (env) point at it, with the token."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = f"http://127.0.0.1:{port}"
    store = f"sqlite:///{tmp_path / 'engine.db'}"
    env = {**os.environ, "STATARB_API_TOKEN": TOKEN, "STATARB_STORE_URL": store}
    env.pop("STATARB_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "statarb.cli.main", "serve", "--port",
                             str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        end = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "statarb serve exited"
            try:
                if httpx.get(f"{api}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < end, "statarb serve did not answer within 30 s"
            time.sleep(0.2)
        for key, value in (("STATARB_API_URL", api), ("STATARB_STORE_URL", store),
                           ("STATARB_API_TOKEN", TOKEN)):  # fmt: skip
            monkeypatch.setenv(key, value)
        st.cache_resource.clear()
        st.cache_data.clear()
        yield api
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        st.cache_resource.clear()


@pytest.fixture
def env(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The dashboard's settings (env) on the module's ``store_url`` with no engine listening;
    Streamlit's caches cleared around the test."""
    monkeypatch.setenv("STATARB_STORE_URL", store_url)
    monkeypatch.setenv("STATARB_API_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("STATARB_CONFIG", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield store_url
    st.cache_resource.clear()
    st.cache_data.clear()
