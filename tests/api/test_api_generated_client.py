"""A client generated from /openapi.json (openapi-python-client) handles the error paths.

Every answer of the sweep, success or error, must parse into the generated types: errors into
the generated ``Problem`` with the right status, never an exception or an untyped body.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from api_helpers import AUTH, TOKEN, ticks
from fastapi.testclient import TestClient

PKG = "statarb_api_client"
_GEN = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ModuleType]]:
    if _GEN is None:
        pytest.skip("openapi-python-client is not installed (dev extra)")
    from api_helpers import make_settings

    from statarb.api import create_app

    tmp = tmp_path_factory.mktemp("gen")
    spec = tmp / "openapi.json"
    spec.write_text(json.dumps(create_app(make_settings(f"sqlite:///{tmp / 'x.db'}")).openapi()))
    done = subprocess.run([_GEN, "generate", "--path", str(spec), "--output-path",
                           str(tmp / PKG), "--meta", "none"], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert (tmp / PKG / "client.py").is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    sys.path.insert(0, str(tmp))
    try:
        yield lambda name: importlib.import_module(f"{PKG}.{name}")
    finally:
        sys.path.remove(str(tmp))
        for mod in [m for m in sys.modules if m == PKG or m.startswith(PKG + ".")]:
            del sys.modules[mod]


def _client(gen: Callable[[str], ModuleType], http: TestClient) -> Any:
    """A generated client over the app of ``http`` (a started TestClient)."""
    return gen("client").Client("http://testserver").set_httpx_client(http)


@contextlib.contextmanager
def _token(http: TestClient) -> Iterator[None]:
    """Send the API token on the requests made inside the block."""
    http.headers["Authorization"] = f"Bearer {TOKEN}"
    try:
        yield
    finally:
        del http.headers["Authorization"]


def _expect(resp: Any, status: int, problem: type) -> Any:
    assert resp.status_code == status, resp.content[:300]
    assert isinstance(resp.parsed, problem), type(resp.parsed)
    if status >= 400:
        assert resp.parsed.status == status and resp.parsed.detail
    return resp.parsed


def test_generated_client_parses_every_error(
    gen: Callable[[str], ModuleType], app_factory: Callable[..., TestClient]
) -> None:
    problem = gen("models").Problem
    tick_in = gen("models").TickIn
    post_tick = gen("api.ticks.post_tick_api_v1_ticks_post")
    get_ticks = gen("api.ticks.get_ticks_api_v1_ticks_symbol_get")
    get_rule = gen("api.alerts.get_rule_api_v1_alerts_rules_rule_id_get")
    live = gen("api.pairs.get_live_api_v1_pairs_a_b_live_get")
    pair = gen("api.pairs.get_pair_api_v1_pairs_a_b_get")
    watch = gen("api.pairs.watch_api_v1_pairs_a_b_watch_put")
    history = gen("api.alerts.history_api_v1_alerts_history_get")
    stats = gen("api.bars.get_stats_api_v1_stats_symbol_get")

    http = app_factory()
    anon = _client(gen, http)
    good = tick_in.from_dict(ticks("BTCUSDT", [1.0])[0])
    _expect(post_tick.sync_detailed(client=anon, body=good), 401, problem)
    _expect(watch.sync_detailed("BTCUSDT", "ETHUSDT", client=anon), 401, problem)
    no_token = app_factory(api_token=None)
    with _token(no_token):
        _expect(post_tick.sync_detailed(client=_client(gen, no_token), body=good), 403, problem)
    _expect(get_rule.sync_detailed(99, client=anon), 404, problem)
    _expect(live.sync_detailed("BTCUSDT", "ETHUSDT", client=anon), 404, problem)
    _expect(stats.sync_detailed("BTCUSDT", client=anon), 422, problem)  # not stored
    small = app_factory(max_body_bytes=40)
    with _token(small):
        _expect(post_tick.sync_detailed(client=_client(gen, small), body=good), 413, problem)
    bad = tick_in.from_dict({**ticks("BTCUSDT", [1.0])[0], "ts": 253_402_300_799_000})
    with _token(http):
        p = _expect(post_tick.sync_detailed(client=anon, body=bad), 422, problem)
    assert [e.field for e in p.errors] == ["ts"]
    p = _expect(get_ticks.sync_detailed("BTCUSDT", client=anon, start="1e30"), 422, problem)
    assert p.errors[0].loc == ["query", "start"]
    _expect(history.sync_detailed(client=anon, end="-1e30"), 422, problem)
    _expect(pair.sync_detailed("BTCUSDT", "ETHUSDT", client=anon), 422, problem)
    # and the success paths parse into their typed models
    http.post("/api/v1/ticks/batch?wait=true", headers=AUTH,
              json=ticks("ETHUSDT", [10.0 + i % 5 for i in range(200)], step_ms=1000))  # fmt: skip
    with _token(http):
        ok = post_tick.sync_detailed(client=anon, body=good)
        w = watch.sync_detailed("BTCUSDT", "ETHUSDT", client=anon)
    assert ok.status_code == 200 and ok.parsed.accepted == 1
    assert w.status_code == 200 and (w.parsed.a, w.parsed.b) == ("BTCUSDT", "ETHUSDT")
    feeds = gen("api.feeds.feeds_api_v1_feeds_get").sync_detailed(client=anon)
    assert feeds.status_code == 200 and feeds.parsed.engine.running is True
    s = stats.sync_detailed("ETHUSDT", client=anon, tf="1s")
    assert s.status_code == 200 and s.parsed.symbol == "ETHUSDT" and s.parsed.bars > 100
