import json

import numpy as np
import pytest
from typer.testing import CliRunner

from statarb.cli.main import build_app
from statarb.model import BarBatch
from statarb.store import open_store

T0 = 1_769_904_000_000_000  # 2026-02-01 00:00 UTC
MIN = 60_000_000


@pytest.fixture
def synth_store(sqlite_url):
    rng = np.random.default_rng(7)
    n = 2 * 1440
    f = np.cumsum(rng.normal(0, 0.001, n))
    st = open_store(sqlite_url)
    for k, sym in enumerate(("DDDUSDT", "AAAUSDT", "CCCUSDT", "BBBUSDT")):
        own = np.cumsum(rng.normal(0, 0.001, n))
        close = np.exp(2 + k + (f + rng.normal(0, 3e-4, n) if k < 2 else own))
        t = T0 + MIN * np.arange(n, dtype=np.int64)
        if sym == "CCCUSDT":  # listed later: its pairs use the bars both legs have
            t, close = t[300:], close[300:]
        m = len(t)
        vol = np.full(m, 10.0)
        st.write_bars(
            BarBatch(
                sym,
                "1m",
                t,
                close,
                close,
                close,
                close,
                vol,
                vol * close,
                np.full(m, 5, dtype=np.int64),
                vol / 2,
            )
        )
    st.close()
    return sqlite_url


def _scan(*args):
    res = CliRunner().invoke(build_app(), ["scan", *args])
    assert res.exit_code == 0, res.output
    return res


def test_scan_all_days_json_then_from_the_cache(synth_store):
    res = _scan("--all", "--tf", "1m", "--days", "1", "--json", "--store", synth_store)
    out = json.loads(res.stdout)
    assert out["tested"] == 6 and out["run"]["computed"] == 6 and out["run"]["cached"] == 0
    assert out["end_us"] == T0 + 2 * 1440 * MIN and out["start_us"] == out["end_us"] - 1440 * MIN
    pairs = {(r["a"], r["b"]): r for r in out["pairs"]}
    assert set(pairs) == {
        ("AAAUSDT", "BBBUSDT"),
        ("AAAUSDT", "CCCUSDT"),
        ("AAAUSDT", "DDDUSDT"),
        ("BBBUSDT", "CCCUSDT"),
        ("BBBUSDT", "DDDUSDT"),
        ("CCCUSDT", "DDDUSDT"),
    }  # --all: name order fixes the dependent leg
    assert pairs[("AAAUSDT", "DDDUSDT")]["significant"]
    assert all(r["n"] == 1440 for r in out["pairs"])
    again = json.loads(_scan("--all", "--days", "1", "--json", "--store", synth_store).stdout)
    assert again["run"]["cached"] == 6 and again["run"]["computed"] == 0
    assert again["pairs"] == out["pairs"]


def test_named_symbols_keep_their_order_and_text_output(synth_store):
    res = _scan("dddusdt", "aaausdt", "cccusdt", "--no-cache", "--store", synth_store)
    assert "3 pairs tested" in res.stdout and "Engle-Granger" in res.stdout
    out = json.loads(
        _scan("DDDUSDT", "CCCUSDT", "--json", "--no-cache", "--store", synth_store).stdout
    )
    assert (out["pairs"][0]["a"], out["pairs"][0]["b"]) == ("DDDUSDT", "CCCUSDT")
    assert out["pairs"][0]["n"] == 2 * 1440 - 300


def test_scan_usage_errors(synth_store):
    app = build_app()
    both = CliRunner().invoke(app, ["scan", "AAAUSDT", "--all", "--store", synth_store])
    assert both.exit_code == 2 and "not both" in both.output
    bad = CliRunner().invoke(app, ["scan", "--all", "--executor", "gpu", "--store", synth_store])
    assert bad.exit_code == 2 and "--executor" in bad.output
    one = CliRunner().invoke(app, ["scan", "AAAUSDT", "--store", synth_store])
    assert one.exit_code == 2 and "two symbols" in one.output
