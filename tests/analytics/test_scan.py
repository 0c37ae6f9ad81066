import numpy as np
import pandas as pd
import pytest
from _data import kline_closes
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.stattools import coint

from statarb.analytics.liquidity import LiquidityStats
from statarb.analytics.scan import COLUMNS, scan_pairs
from statarb.errors import InputError


def _universe(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(0, 0.01, n))
    cols = {
        "P1": np.exp(3 + f + rng.normal(0, 0.002, n)),
        "P2": np.exp(2 + f + rng.normal(0, 0.002, n)),
        "R1": np.exp(3 + np.cumsum(rng.normal(0, 0.01, n))),
        "R2": np.exp(1 + np.cumsum(rng.normal(0, 0.01, n))),
    }
    return pd.DataFrame(cols)


def test_ranks_the_cointegrated_pair_first_and_matches_coint():
    df = _universe()
    liq = {c: LiquidityStats(1.0, 1e6 * (i + 1), 10, 10, 1e5) for i, c in enumerate(df)}
    res = scan_pairs(df, workers=1, liquidity=liq)
    t = res.table
    assert list(t.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert {t.loc[0, "a"], t.loc[0, "b"]} == {"P1", "P2"}
    assert bool(t.loc[0, "significant"])
    row = t[(t.a == "R1") & (t.b == "R2")].iloc[0]
    lr1, lr2 = np.log(df["R1"].to_numpy()), np.log(df["R2"].to_numpy())
    assert row.pvalue == pytest.approx(min(coint(lr1, lr2)[1], coint(lr2, lr1)[1]), rel=1e-8)
    _, adj, _, _ = multipletests(t["pvalue"], method="fdr_bh")
    np.testing.assert_allclose(t["pvalue_adj"], adj)
    assert row.notional_a == liq["R1"].notional
    assert res.tested == 6 and "6 pairs" in res.summary()
    assert res.to_dict()["pairs"][0]["a"] in ("P1", "P2")


def test_parallel_equals_serial():
    df = _universe(n=800, seed=3)
    df["P3"] = df["P1"] * 1.01
    a = scan_pairs(df, workers=1).table
    b = scan_pairs(df, workers=2).table
    pd.testing.assert_frame_equal(a, b)
    collinear = a[(a.a == "P1") & (a.b == "P3")].iloc[0]
    assert "collinear" in collinear.note


def test_untested_pairs_and_validation():
    df = _universe(n=300)
    df.loc[:250, "R2"] = np.nan
    res = scan_pairs(df, workers=1, min_obs=100)
    assert res.tested == 3
    with pytest.raises(InputError, match="two symbols"):
        scan_pairs(df[["P1"]])


@pytest.mark.slow
def test_real_klines_scan(shared_data):
    syms = ("ALGOUSDT", "AVAXUSDT", "DOTUSDT", "FILUSDT", "LINKUSDT", "LTCUSDT", "NEARUSDT")
    df = kline_closes(shared_data, syms).iloc[:5000]
    res = scan_pairs(df, workers=1)
    assert res.tested == 21
    row = res.table.iloc[0]
    ly, lx = np.log(df[row.a].to_numpy()), np.log(df[row.b].to_numpy())
    assert row.pvalue == pytest.approx(min(coint(ly, lx)[1], coint(lx, ly)[1]), rel=1e-6)
