"""Fixtures shared by the whole suite: real data paths and the real services."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("STATARB_SHARED_DATA", ROOT.parent / "shared" / "data"))
POSTGRES_DSN = os.environ.get("STATARB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("STATARB_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real market data beside the checkout (skips when it is not there)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market data not found at {SHARED_DATA} (set STATARB_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """DSN of the real PostgreSQL server (skips with a reason when it is not running)."""
    if not _port_open("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    return POSTGRES_DSN


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the real Redis server (skips with a reason when it is not running)."""
    if not _port_open("127.0.0.1", 6379):
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return REDIS_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite store URL in a temporary folder."""
    return f"sqlite:///{tmp_path / 'statarb.db'}"


@pytest.fixture
def pg_url(postgres_dsn: str) -> Iterator[str]:
    """A store URL on a fresh PostgreSQL schema of the test server, dropped afterwards."""
    import psycopg

    schema = f"statarb_test_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{postgres_dsn}?schema={schema}"
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
