"""Store fixtures: one URL per backend, each test in its own file or PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from statarb.store import TickStore, open_store


def _drop_schema(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL for each backend (PostgreSQL: a schema dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'ticks.db'}"
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"statarb_test_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{dsn}?schema={schema}"
    finally:
        _drop_schema(dsn, schema)


@pytest.fixture
def store(store_url: str) -> Iterator[TickStore]:
    """An open read-write store on ``store_url``."""
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()
