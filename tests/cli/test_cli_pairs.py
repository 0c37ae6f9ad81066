import json

import numpy as np
import pytest
from typer.testing import CliRunner

from statarb.analytics.pair import analyze_pair
from statarb.cli.main import build_app
from statarb.store import open_store

SYMS = ("AVAXUSDT", "LINKUSDT", "LTCUSDT")


@pytest.fixture(scope="module")
def pair_store(kline_store):
    return kline_store(SYMS, 3000)


def test_pair_json_matches_the_library(pair_store):
    res = CliRunner().invoke(
        build_app(),
        ["pair", "avaxusdt", "linkusdt", "--tf", "1m", "--json", "--store", pair_store],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["a"] == "AVAXUSDT" and out["tf"] == "1m" and out["n"] == 3000
    st = open_store(pair_store, read_only=True)
    a = st.read_bars("AVAXUSDT", "1m").close
    b = st.read_bars("LINKUSDT", "1m").close
    ref = analyze_pair(a, b)
    assert out["hedge_ratio"] == pytest.approx(ref.hedge_ratio)
    assert out["adf_pvalue"] == pytest.approx(ref.adf_pvalue)
    assert out["eg_pvalue"] == pytest.approx(ref.eg_pvalue)


def test_pair_text_kalman_and_5m(pair_store):
    res = CliRunner().invoke(
        build_app(),
        [
            "pair",
            "AVAXUSDT",
            "LINKUSDT",
            "--tf",
            "5m",
            "--method",
            "kalman",
            "--store",
            pair_store,
        ],
    )
    assert res.exit_code == 0, res.output
    assert "AVAXUSDT/LINKUSDT kalman" in res.stdout


def test_pair_errors(pair_store):
    app = build_app()
    bad = CliRunner().invoke(app, ["pair", "AVAXUSDT", "NOPE", "--store", pair_store])
    assert bad.exit_code == 2 and "NOPE" in bad.output
    bad = CliRunner().invoke(
        app, ["pair", "AVAXUSDT", "LINKUSDT", "--method", "lasso", "--store", pair_store]
    )
    assert bad.exit_code == 2 and "--method" in bad.output


def test_scan_json(pair_store):
    res = CliRunner().invoke(build_app(), ["scan", *SYMS, "--json", "--store", pair_store])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["tested"] == 3 and len(out["pairs"]) == 3
    p = [r["pvalue"] for r in out["pairs"]]
    assert p == sorted(p)
    assert np.isfinite(out["pairs"][0]["notional_a"])
    text = CliRunner().invoke(build_app(), ["scan", *SYMS, "--store", pair_store])
    assert text.exit_code == 0 and "pairs tested" in text.stdout
