import numpy as np
import pandas as pd
import pytest
from _data import kline_closes
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.stattools import coint as _coint
from threadpoolctl import threadpool_limits

from statarb.analytics.liquidity import LiquidityStats
from statarb.analytics.scan import COLUMNS, STATUS, prepare, scan_chunk, scan_pairs
from statarb.errors import InputError


def coint(*args, **kw):
    """statsmodels coint on one BLAS thread (threaded BLAS is many times slower on a busy box)."""
    with threadpool_limits(1):
        return _coint(*args, **kw)


def _universe(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(0, 0.01, n))
    cols = {
        "P1": np.exp(3 + f + rng.normal(0, 0.002, n)),
        "P2": np.exp(2 + f + rng.normal(0, 0.002, n)),
        "R1": np.exp(3 + np.cumsum(rng.normal(0, 0.01, n))),
        "R2": np.exp(1 + np.cumsum(rng.normal(0, 0.01, n))),
        "P3": np.exp(1 + 0.7 * f + rng.normal(0, 0.004, n)),
    }
    return pd.DataFrame(cols)


def _coint_rows(df, table, **kw):
    """statsmodels coint of every row's pair, a (first in input order) on b, common bars."""
    out = []
    for r in table.itertuples():
        both = df[r.a].notna() & df[r.b].notna()
        y, x = np.log(df.loc[both, r.a].to_numpy()), np.log(df.loc[both, r.b].to_numpy())
        stat, p, _ = coint(y, x, **kw)
        out.append((r.statistic, stat, r.pvalue, p))
    return np.array(out)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({}, {"autolag": "bic"}),  # the default: the lag rule of every reported p-value
        ({"autolag": "AIC"}, {"autolag": "aic"}),
        ({"autolag": "t-stat"}, {"autolag": "t-stat"}),
        ({"autolag": None, "maxlag": 3}, {"autolag": None, "maxlag": 3}),
        ({"autolag": "AIC", "maxlag": 7}, {"autolag": "aic", "maxlag": 7}),
    ],
)
def test_every_pair_equals_a_statsmodels_coint_loop(ours, theirs):
    df = _universe(n=400, seed=1).drop(columns="P2")
    df.loc[:60, "R2"] = np.nan  # a late listing: that leg's pairs use their common bars
    df.loc[200:205, "P3"] = np.nan
    t = scan_pairs(df, **ours).table
    assert len(t) == 6 and (t.status == "ok").all()
    order = list(df.columns)
    assert all(order.index(a) < order.index(b) for a, b in zip(t.a, t.b, strict=True))
    got = _coint_rows(df, t, **theirs)
    np.testing.assert_allclose(got[:, 0], got[:, 1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got[:, 2], got[:, 3], rtol=1e-8, atol=1e-12)


def test_table_ranks_corrects_and_reports_notional():
    df = _universe()
    liq = {c: LiquidityStats(1.0, 1e6 * (i + 1), 10, 10, 1e5) for i, c in enumerate(df)}
    res = scan_pairs(df, liquidity=liq)
    t = res.table
    assert list(t.columns) == list(COLUMNS)
    assert {t.loc[0, "a"], t.loc[0, "b"]} <= {"P1", "P2", "P3"}
    assert bool(t.loc[0, "significant"])
    _, adj, _, _ = multipletests(t["pvalue"], method="fdr_bh")
    np.testing.assert_allclose(t["pvalue_adj"], adj)
    row = t[(t.a == "R1") & (t.b == "R2")].iloc[0]
    assert row.notional_a == liq["R1"].notional and row.notional_b == liq["R2"].notional
    spread = np.log(df["R1"]) - row.hedge_ratio * np.log(df["R2"]) - row.intercept
    from statarb.analytics.meanreversion import half_life

    assert row.half_life == pytest.approx(half_life(spread).half_life, rel=1e-9)
    ry, rx = np.diff(np.log(df["R1"])), np.diff(np.log(df["R2"]))
    assert row.correlation == pytest.approx(np.corrcoef(ry, rx)[0, 1], rel=1e-9)
    assert res.tested == 10 and "10 pairs tested" in res.summary()
    assert res.to_dict()["pairs"][0]["a"] == t.loc[0, "a"]


def test_prefiltered_pairs_count_in_the_correction_at_p_one():
    df = _universe(seed=4)
    full = scan_pairs(df).table
    res = scan_pairs(df, min_corr=0.9)
    t = res.table
    pre = t.status == "prefiltered"
    assert pre.any() and res.prefiltered == int(pre.sum()) and res.tested == 10 - res.prefiltered
    p = np.where(pre, 1.0, t.pvalue)
    _, adj, _, _ = multipletests(p, method="fdr_bh")
    np.testing.assert_allclose(t.pvalue_adj, adj)
    assert t.loc[pre, "pvalue"].isna().all()
    kept = full.set_index(["a", "b"]).loc[list(zip(t.a[~pre], t.b[~pre], strict=True))]
    np.testing.assert_allclose(t.pvalue[~pre], kept.pvalue)


def test_untested_collinear_and_validation():
    df = _universe(n=300)
    df.loc[:250, "R2"] = np.nan
    df["C"] = df["P1"] * 1.01  # exactly collinear with P1 in logs
    df["K"] = 5.0
    t = scan_pairs(df, min_obs=100).table.set_index(["a", "b"])
    assert t.loc[("P1", "R2"), "status"] == "short" and np.isnan(t.loc[("P1", "R2"), "pvalue"])
    assert t.loc[("P1", "K"), "status"] == "constant"
    assert t.loc[("P1", "C"), "status"] == "collinear" and t.loc[("P1", "C"), "pvalue"] == 0.0
    assert set(t.status) <= set(STATUS)
    with pytest.raises(InputError, match="two symbols"):
        scan_pairs(df[["P1"]])
    with pytest.raises(InputError, match="min_obs"):
        scan_pairs(df, min_obs=5)
    with pytest.raises(InputError, match="positive"):
        scan_pairs(df - 100.0)
    with pytest.raises(InputError, match="unknown symbol"):
        scan_pairs(df, pairs=[("P1", "NOPE")])


def test_chunks_give_the_numbers_of_one_run():
    inp = prepare(_universe(n=600, seed=2))
    whole = scan_chunk(inp, np.arange(inp.pairs))
    for k in range(inp.pairs):
        one = scan_chunk(inp, np.array([k]))
        assert one.statistic[0] == whole.statistic[k] and one.used_lag[0] == whole.used_lag[k]


def _null_pairs(n_pairs, n_bars, seed):
    rng = np.random.default_rng(seed)
    walks = np.exp(3 + np.cumsum(rng.normal(0, 0.01, (n_bars, 2 * n_pairs)), axis=0))
    df = pd.DataFrame(walks, columns=[f"W{k}" for k in range(2 * n_pairs)])
    return df, [(f"W{2 * k}", f"W{2 * k + 1}") for k in range(n_pairs)]


def test_size_under_the_null_is_nominal():
    # 1200 independent pairs of random walks: the fixed-direction p-value is uniform, so about
    # 5% fall below 0.05 (binomial sd 0.63%); the better-of-two-directions rule it replaces
    # rejects about twice as often
    df, pairs = _null_pairs(1200, 500, seed=11)
    t = scan_pairs(df, pairs=pairs).table
    rate = float((t.pvalue < 0.05).mean())
    assert abs(rate - 0.05) < 4 * np.sqrt(0.05 * 0.95 / len(t)), rate
    rev = scan_pairs(df, pairs=[(b, a) for a, b in pairs]).table.set_index(["b", "a"])
    both = np.minimum(
        t.set_index(["a", "b"]).pvalue, rev.pvalue.reindex(t.set_index(["a", "b"]).index)
    )
    assert float((both < 0.05).mean()) > rate + 0.02
    # p-values spread over [0, 1] like a uniform sample (Kolmogorov-Smirnov)
    from scipy.stats import kstest

    assert kstest(t.pvalue, "uniform").pvalue > 1e-3


def test_benjamini_hochberg_controls_the_false_discovery_rate():
    rng = np.random.default_rng(5)
    fdp = []
    for _ in range(25):
        df, pairs = _null_pairs(40, 400, seed=int(rng.integers(1 << 30)))
        f = np.cumsum(rng.normal(0, 0.01, 400))
        for k in range(10):  # ten truly cointegrated pairs
            df[f"C{k}"] = np.exp(2 + f + rng.normal(0, 0.004, 400))
            df[f"D{k}"] = np.exp(1 + f + rng.normal(0, 0.004, 400))
            pairs.append((f"C{k}", f"D{k}"))
        t = scan_pairs(df, pairs=pairs, alpha=0.1).table
        sig = t[t.significant]
        false = int(sig.a.str.startswith("W").sum())
        fdp.append(false / max(len(sig), 1))
    # FDR <= alpha * m0/m = 0.08; 25 runs: allow sampling error
    assert np.mean(fdp) <= 0.08 + 3 * np.std(fdp) / np.sqrt(len(fdp)) + 1e-12


@pytest.mark.slow
def test_real_klines_scan(shared_data):
    syms = ("ALGOUSDT", "AVAXUSDT", "DOTUSDT", "FILUSDT", "LINKUSDT", "LTCUSDT", "NEARUSDT")
    df = kline_closes(shared_data, syms).iloc[:3000]
    res = scan_pairs(df)
    assert res.tested == 21
    for row in res.table.head(1).itertuples():
        ly, lx = np.log(df[row.a].to_numpy()), np.log(df[row.b].to_numpy())
        stat, p, _ = coint(ly, lx, autolag="bic")
        assert row.statistic == pytest.approx(stat, rel=1e-8)
        assert row.pvalue == pytest.approx(p, rel=1e-8, abs=1e-14)
