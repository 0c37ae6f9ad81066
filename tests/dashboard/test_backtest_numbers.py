"""One number everywhere: the Backtest page, ``statarb backtest`` and the library agree on every
timeframe (1s, 1m, 15m, 1h), annualisation included."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from statarb.dashboard.launch import APP

PAGE = APP.parent / "views" / "backtest.py"
A, B = "AAAUSDT", "BBBUSDT"
T0 = 1_767_225_600_000_000  # 2026-01-01 UTC
STEP = 10_000_000  # a trade every 10 s per leg
TICKS = 4 * 86_400 // 10  # four days: 96 hourly bars
PARAMS = {"capital": 100_000.0, "entry": 2.0, "exit": 0.5, "stop": 4.0, "window": 20,
          "method": "rolling-ols", "fee_bps": 4.0, "slippage_bps": 1.0}  # fmt: skip


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Ticks of a mean-reverting pair: y = 1.5 x + 20 + OU noise (half-life about 2 h)."""
    from statarb.model import TickBatch
    from statarb.store import open_store

    rng = np.random.default_rng(12)
    x = 100 * np.exp(np.cumsum(rng.normal(0, 2e-4, TICKS)))
    eps = rng.normal(0, 0.02, TICKS)
    noise = np.empty(TICKS)
    noise[0] = 0.0
    for i in range(1, TICKS):
        noise[i] = 0.9994 * noise[i - 1] + eps[i]
    y = 1.5 * x + 20 + noise
    ts = T0 + np.arange(TICKS, dtype=np.int64) * STEP
    url = f"sqlite:///{tmp_path_factory.mktemp('bt') / 'statarb.db'}"
    store = open_store(url)
    for sym, price, lag in ((A, y, 100), (B, x, 200)):
        store.write_ticks(TickBatch(sym, ts + lag, price, np.ones(TICKS)))
    store.close()
    return url


def _library(url: str, tf: str):  # type: ignore[no-untyped-def]
    from statarb.backtest import BacktestConfig, run_backtest
    from statarb.history import load_aligned
    from statarb.store import open_store

    store = open_store(url, read_only=True)
    try:
        closes = load_aligned(store, [A, B], tf).dropna()
    finally:
        store.close()
    cfg = BacktestConfig.for_timeframe(tf, **PARAMS)
    return run_backtest(closes[A], closes[B], config=cfg, index=closes.index)


def _cli(url: str, tf: str) -> dict:
    from statarb.cli.main import build_app

    args = ["backtest", A, B, "--tf", tf, "--entry", "2", "--exit", "0.5", "--stop", "4",
            "--window", "20", "--json", "--store", url]  # fmt: skip
    res = CliRunner().invoke(build_app(), args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _page(tf: str) -> tuple[dict[str, str], list[str]]:
    at = AppTest.from_file(str(PAGE), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="bt_a").set_value(A)
    at.selectbox(key="bt_b").set_value(B)
    at.selectbox(key="bt_tf").set_value(tf).run()
    next(n for n in at.number_input if n.label == "Window (bars)").set_value(20)
    next(b for b in at.button if b.label == "Run backtest").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return {m.label: m.value for m in at.metric}, [str(e.value) for e in at.error]


@pytest.mark.parametrize("tf", ["1s", "1m", "15m", "1h"])
def test_page_cli_and_library_show_the_same_numbers(env: str, tf: str) -> None:
    from statarb.analytics.rolling import periods_per_year
    from statarb.dashboard.analysis import metric_cards

    ref = _library(env, tf)
    m = ref.metrics
    assert m["trades"] > 0, "the pair must trade on every timeframe for the check to mean much"
    # the library annualises by the timeframe's bars per year
    assert ref.config.bar_seconds * periods_per_year(tf) == pytest.approx(365 * 86_400)
    out = _cli(env, tf)
    cli = out["metrics"]
    for key, value in m.items():
        if isinstance(value, float) and not math.isfinite(value):
            assert cli[key] is None, key
        else:
            assert cli[key] == pytest.approx(value, rel=1e-12), key
    cards, errors = _page(tf)
    # a run whose equity reached zero says so (costs of 1 s noise trading ruin this one)
    assert errors == ([ref.summary().splitlines()[0]] if ref.ruined else [])
    assert out["ruined"] == ref.ruined and out["ruin_bar"] == ref.ruin_bar
    assert cards == dict(metric_cards(m))
    assert cards["Sharpe"] == f"{m['sharpe']:.2f}"
    assert cards["Total return"] == f"{m['total_return']:+.2%}"
    assert cards["Win rate"] == f"{m['win_rate']:.2%}"
