"""The event loop stays free: ``/health`` answers while a large read is being rendered, an upload
is being imported, or the SQLite file is locked by another process (alert rule write and a
firing alert pending). Each probe orders events instead of timing them: the blocking work is
held open until ``/health`` has answered, so it can only pass if that work is off the loop.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from api_helpers import AUTH, make_settings, ticks

from _ports import free_port
from statarb.api import create_app

SAFETY_S = 60  # a safety net only: every wait below ends on an event


def _get(url: str, **kw: Any) -> httpx.Response:
    return httpx.get(url, timeout=SAFETY_S, **kw)


def _post(url: str, **kw: Any) -> httpx.Response:
    return httpx.post(url, timeout=SAFETY_S, **kw)


APPS: dict[str, Any] = {}


def _serve(url: str, **store_kw: Any) -> Iterator[str]:
    """The real app under uvicorn on its own loop (in a thread); yields its base URL."""
    from statarb.store.sqlite import SQLiteStore

    port = free_port()
    store = SQLiteStore(url, **store_kw)
    app = create_app(make_settings(url), store=store)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    APPS[base] = app
    for _ in range(1200):
        if srv.started:
            break
        threading.Event().wait(0.05)
    assert srv.started
    yield base
    srv.should_exit = True
    thread.join(SAFETY_S)
    APPS.pop(base)
    store.close()


@pytest.fixture
def server(sqlite_url: str) -> Iterator[str]:
    yield from _serve(sqlite_url)


@pytest.fixture
def impatient_server(sqlite_url: str) -> Iterator[str]:
    """The same with a store that gives up on a locked file after 0.2 s (and retries)."""
    yield from _serve(sqlite_url, busy_timeout=0.2)


def _health_while(base: str, started: threading.Event, slow: Future[Any]) -> int:
    """Once the blocking work started, ``/health``'s status; the work must still be running."""
    assert started.wait(SAFETY_S), "the blocking work never started"
    status = _get(base + "/health").status_code
    assert not slow.done(), "the slow request finished first: the probe proves nothing"
    return status


def test_health_answers_while_a_large_response_is_rendered(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from statarb.api.routers import ticks as ticks_router

    r = _post(server + "/api/v1/ticks/batch?wait=true", json=ticks("BTCUSDT", [1.0] * 500),
                   headers=AUTH)  # fmt: skip
    assert r.json()["accepted"] == 500
    started, release = threading.Event(), threading.Event()
    real = ticks_router.ticks_json

    def slow_render(tb: Any) -> Any:  # stands in for seconds of rendering a million rows
        started.set()
        release.wait(SAFETY_S)
        return real(tb)

    monkeypatch.setattr(ticks_router, "ticks_json", slow_render)
    with ThreadPoolExecutor(1) as pool:
        big = pool.submit(_get, server + "/api/v1/ticks/BTCUSDT?limit=1000000")  # fmt: skip
        try:
            assert _health_while(server, started, big) == 200
        finally:
            release.set()
        assert len(big.result().json()) == 500


def test_health_answers_while_an_upload_is_imported(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import statarb.ingest.files as files

    started, release = threading.Event(), threading.Event()
    real = files.import_files

    def slow_import(*a: Any, **kw: Any) -> Any:
        started.set()
        release.wait(SAFETY_S)
        return real(*a, **kw)

    monkeypatch.setattr(files, "import_files", slow_import)
    body = "\n".join(f'{{"symbol":"ETHUSDT","ts":{1_723_118_400_000 + i},"price":1,"size":1}}'
                     for i in range(2000)).encode()  # fmt: skip
    with ThreadPoolExecutor(1) as pool:
        up = pool.submit(_post, server + "/api/v1/ticks/file", headers=AUTH,
                         files={"file": ("t.ndjson", body)})  # fmt: skip
        try:
            assert _health_while(server, started, up) == 200
        finally:
            release.set()
        assert up.result().status_code == 200, up.result().text


def _entered(obj: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event set when ``obj.name`` is first called (the call then proceeds as usual)."""
    event, real = threading.Event(), getattr(obj, name)

    def wrapper(*a: Any, **kw: Any) -> Any:
        event.set()
        return real(*a, **kw)

    monkeypatch.setattr(obj, name, wrapper)
    return event


def test_locked_database_stalls_no_one_and_loses_no_alert(
    server: str, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = {"name": "hi", "cooldown_seconds": 0, "condition": {"metric": "price",
            "target": "BTCUSDT", "operator": ">", "threshold": 5}}  # fmt: skip
    assert _post(server + "/api/v1/alerts/rules", json=rule, headers=AUTH).status_code == 201
    store = APPS[server].state.store
    saving = _entered(store, "save_alert_rule", monkeypatch)
    recording = _entered(store, "add_alert_event", monkeypatch)
    lock = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # another process holds the file (busy timeout: 10 s)
    try:
        with ThreadPoolExecutor(2) as pool:
            write = pool.submit(_post, server + "/api/v1/alerts/rules", headers=AUTH,
                                json={**rule, "name": "second"})  # fmt: skip
            assert _health_while(server, saving, write) in (200, 503)
            fire = pool.submit(_post, server + "/api/v1/ticks", headers=AUTH,
                               json=ticks("BTCUSDT", [10.0])[0])  # fmt: skip
            assert _health_while(server, recording, fire) in (200, 503)
            assert not write.done()
            lock.execute("ROLLBACK")
            assert write.result().status_code == 201, write.result().text
            assert fire.result().status_code == 200, fire.result().text
    finally:
        lock.close()
    hist = _get(server + "/api/v1/alerts/history").json()
    assert [h["values"] for h in hist] == [{"price:BTCUSDT:tick": 10.0}]  # recorded, not lost


def test_health_reports_a_store_refusing_writes(impatient_server: str, sqlite_url: str) -> None:
    server = impatient_server
    lock = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        r = _post(server + "/api/v1/ticks", headers=AUTH, json=ticks("ETHUSDT", [1.0])[0])
        assert r.status_code == 200  # queued; the writer keeps retrying
        for _ in range(6000):  # the first refusal comes after the busy timeout
            health = _get(server + "/health")
            if health.status_code == 503:
                break
            threading.Event().wait(0.01)
        assert health.json() | {"version": ""} == {"status": "degraded", "engine": True,
            "store": "sqlite", "version": "", "bus": "off", "store_ok": False}  # fmt: skip
        metrics = _get(server + "/metrics").text
        assert "statarb_store_failing 1" in metrics
        assert "statarb_engine_errors_total 0" not in metrics
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    for _ in range(6000):  # recovers once the lock is gone
        if _get(server + "/health").status_code == 200:
            break
        threading.Event().wait(0.01)
    assert _get(server + "/health").json()["store_ok"] is True


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_large_read_is_streamed_and_health_answers_between_chunks(
    server: str, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """The first chunk reaches the client while the second is still being rendered, and
    ``/health`` answers in between: the response is streamed, never rendered whole."""
    from statarb.api.routers import _stream

    rows = ticks("BTCUSDT", [1.0 + i % 5 for i in range(450)])
    assert _post(server + "/api/v1/ticks/batch?wait=true", json=rows,
                 headers=AUTH).json()["accepted"] == 450  # fmt: skip
    whole = _get(server + f"/api/v1/ticks/BTCUSDT?limit=1000&format={fmt}").content
    monkeypatch.setattr(_stream, "STREAM_CHUNK_ROWS", 100)
    started, release, rendered = threading.Event(), threading.Event(), []
    real = _stream._rendered

    async def held(render: Any, n: int) -> Any:
        def second_waits(lo: int, hi: int) -> bytes:
            if lo == 100:
                started.set()
                release.wait(SAFETY_S)
            rendered.append((lo, hi))
            return bytes(render(lo, hi))

        async for part in real(second_waits, n):
            yield part

    monkeypatch.setattr(_stream, "_rendered", held)
    with httpx.stream("GET", server + f"/api/v1/ticks/BTCUSDT?limit=1000&format={fmt}",
                      timeout=SAFETY_S) as r:  # fmt: skip
        assert r.status_code == 200
        parts = r.iter_raw()
        first = next(parts)  # arrives while the second chunk is held
        assert started.wait(SAFETY_S)
        assert rendered == [(0, 100)]
        assert _get(server + "/health").status_code == 200
        assert rendered == [(0, 100)]
        release.set()
        body = first + b"".join(parts)
    assert rendered == [(i, i + 100) for i in range(0, 400, 100)] + [(400, 450)]
    assert body == whole  # the same bytes as a response rendered in one chunk
    if fmt == "json":
        assert [t["price"] for t in orjson.loads(body)] == [r["price"] for r in rows]
