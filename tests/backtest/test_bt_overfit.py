"""Deflated Sharpe and PBO (CSCV) against hand computations, and sweeps over noise and skill."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats
from scipy.signal import lfilter

from statarb.backtest import BacktestConfig
from statarb.backtest.overfit import (
    deflated_sharpe,
    expected_max_sharpe,
    overfit_report,
    pbo_cscv,
    probabilistic_sharpe,
)
from statarb.backtest.sweep import sweep, sweep_report, walk_forward
from statarb.errors import InputError


def test_deflated_sharpe_by_hand():
    rng = np.random.default_rng(1)
    r = rng.standard_t(5, 1500) * 0.01 + 0.001
    trials = [*rng.normal(0.02, 0.03, 49).tolist(), r.mean() / r.std(ddof=1)]
    res = deflated_sharpe(r, trial_sharpes=trials)
    # by hand: Bailey and Lopez de Prado (2014), eq. for SR0 and the PSR at SR0
    sr = r.mean() / r.std(ddof=1)
    g3 = stats.skew(r)
    g4 = stats.kurtosis(r, fisher=False)
    v = np.var(trials, ddof=1)
    n = 50
    emc = 0.5772156649015329
    sr0 = math.sqrt(v) * (
        (1 - emc) * stats.norm.ppf(1 - 1 / n) + emc * stats.norm.ppf(1 - 1 / (n * math.e))
    )
    z = (sr - sr0) * math.sqrt(len(r) - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    assert res.sr0 == pytest.approx(sr0, rel=1e-12)
    assert res.dsr == pytest.approx(stats.norm.cdf(z), rel=1e-10)
    assert res.skew == pytest.approx(g3) and res.kurtosis == pytest.approx(g4)
    assert res.n_trials == 50 and res.n_obs == 1500
    assert "deflated Sharpe" in res.summary() and res.to_dict()["significant"] == res.significant


def test_expected_max_sharpe_approximates_the_maximum_of_normals():
    rng = np.random.default_rng(0)
    for n in (10, 100, 1000):
        mc = rng.standard_normal((4000, n)).max(axis=1).mean()
        assert expected_max_sharpe(n, 1.0) == pytest.approx(mc, rel=0.05)
    assert expected_max_sharpe(1, 1.0) == 0.0
    assert expected_max_sharpe(100, 4.0) == pytest.approx(2 * expected_max_sharpe(100, 1.0))


def test_probabilistic_sharpe_is_calibrated_under_normal_returns():
    # under a zero true Sharpe the PSR against 0 is uniform: about 5% exceed 0.95
    rng = np.random.default_rng(3)
    psr = []
    for _ in range(2000):
        r = rng.normal(0, 1, 250)
        sr = r.mean() / r.std(ddof=1)
        psr.append(probabilistic_sharpe(sr, 250))
    assert np.mean(np.array(psr) > 0.95) == pytest.approx(0.05, abs=0.015)


def _pbo_by_hand(m: np.ndarray, blocks: int) -> tuple[float, np.ndarray]:
    """CSCV written out plainly: loop over splits, Sharpe from the raw rows, scipy ranks."""
    t, n = m.shape
    size = t // blocks
    parts = [m[i * size : (i + 1) * size] for i in range(blocks)]
    logits = []
    for train in itertools.combinations(range(blocks), blocks // 2):
        test = [i for i in range(blocks) if i not in train]
        j = np.vstack([parts[i] for i in train])
        jb = np.vstack([parts[i] for i in test])
        sr_in = j.mean(axis=0) / j.std(axis=0, ddof=1)
        sr_out = jb.mean(axis=0) / jb.std(axis=0, ddof=1)
        best = int(np.argmax(sr_in))
        w = stats.rankdata(sr_out)[best] / (n + 1)
        logits.append(math.log(w / (1 - w)))
    lg = np.array(logits)
    return float(np.mean(lg <= 0)), lg


@pytest.mark.parametrize(("t", "n", "blocks"), [(240, 7, 6), (400, 25, 8)])
def test_pbo_matches_the_written_out_procedure(t, n, blocks):
    m = np.random.default_rng(t).normal(0.0, 0.01, (t, n))
    m[:, 0] += 0.002  # one column with a small edge
    res = pbo_cscv(m, blocks=blocks)
    pbo, logits = _pbo_by_hand(m, blocks)
    assert res.pbo == pytest.approx(pbo, abs=1e-12)
    np.testing.assert_allclose(res.logits, logits, rtol=1e-9)
    assert res.n_splits == math.comb(blocks, blocks // 2)


def test_pbo_constructed_extremes():
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 0.01, (800, 10))
    # a configuration better in every block is chosen every time and stays best: PBO 0
    skill = noise.copy()
    skill[:, 3] = np.abs(skill[:, 3]) + 0.01
    assert pbo_cscv(skill, blocks=8).pbo == 0.0
    # columns with exactly zero mean over the sample: in-sample winners lose out of sample
    assert pbo_cscv(noise - noise.mean(axis=0), blocks=8).pbo == 1.0
    with pytest.raises(InputError, match="even"):
        pbo_cscv(noise, blocks=5)


def _walks(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    x = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    return y, x


GRID = {"entry": [1.0, 1.5, 2.0, 2.5], "window": [20, 40, 80, 160], "exit": [0.0, 0.5]}
FREE = BacktestConfig(fee_bps=0.0, slippage_bps=0.0)


def test_sweep_over_noise_is_flagged_and_a_real_edge_is_not():
    y, x = _walks(0, 4000)  # two independent random walks: no edge in any configuration
    noise = sweep_report(y, x, config=FREE, grid=GRID)
    assert noise.n_configs == 32
    assert not noise.overfit.dsr.significant
    assert noise.overfit.pbo is not None and noise.overfit.pbo.pbo >= 0.4
    # the same grid on a cointegrated pair
    rng = np.random.default_rng(3)
    y2 = 1.2 * x + lfilter([1.0], [1.0, -0.9], rng.normal(0, 0.3, len(x)))
    skill = sweep_report(y2, x, config=FREE, grid=GRID)
    assert skill.overfit.dsr.significant
    assert skill.overfit.pbo is not None and skill.overfit.pbo.pbo < 0.2
    assert noise.overfit.pbo.pbo > skill.overfit.pbo.pbo + 0.2
    # each row has its DSR against the same threshold; the best row's is the report's
    best = noise.table.loc[noise.table.sharpe_per_bar.idxmax()]
    assert best.dsr == pytest.approx(noise.overfit.dsr.dsr)
    assert noise.best["dsr"] == pytest.approx(noise.overfit.dsr.dsr)
    d = noise.to_dict()
    assert d["overfit"]["n_configs"] == 32 and len(d["rows"]) == 32
    # the plain sweep carries the same guards
    plain = sweep(y, x, config=FREE, grid=GRID)
    assert plain.attrs["overfit"] == noise.overfit.to_dict()


def test_walk_forward_reports_its_guards():
    y, x = _walks(2, 1500)
    res = walk_forward(y, x, config=FREE, grid={"entry": [1.5, 2.0], "window": [30, 60]},
                       train=500, test=250)  # fmt: skip
    assert res.overfit is not None
    assert res.overfit.n_configs == 4
    assert res.overfit.dsr.n_obs == len(res.equity)
    assert res.to_dict()["overfit"]["pbo"] is not None


def test_report_from_summaries_equals_the_matrix_computation():
    m = np.random.default_rng(9).normal(0.0, 0.01, (1000, 12))
    m[:, 4] += 0.001
    rep = overfit_report(m)
    np.testing.assert_allclose(rep.pbo.logits, pbo_cscv(m, blocks=16).logits, rtol=1e-9)
    direct = deflated_sharpe(m[:, 4], trial_sharpes=m.mean(axis=0) / m.std(axis=0, ddof=1))
    assert rep.dsr.dsr == pytest.approx(direct.dsr, rel=1e-9)
    assert rep.dsr.sr0 == pytest.approx(direct.sr0, rel=1e-9)


def test_overfit_report_needs_a_matrix():
    with pytest.raises(InputError):
        overfit_report(np.zeros(10))
    rep = overfit_report(np.random.default_rng(0).normal(size=(10, 3)))
    assert rep.pbo is None or rep.pbo.blocks >= 4
