"""Calibration under the null: each reported p-value rejects about 5% of the time at 5%.

Series are simulated under the null hypothesis (a random walk for ADF, independent random walks
for Engle-Granger and for the ADF of their OLS spread). The number of rejections at 5% must lie
inside the two-sided 99.9% binomial interval of ``REPS`` draws at p = 0.05, so a test that is too
liberal (the minimum over both Engle-Granger directions) or too conservative fails.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from statarb.analytics.regression import hedge_ratio
from statarb.analytics.stationarity import REPORTED_AUTOLAG, adf, engle_granger, spread_adf

REPS = 500
N = 150
LEVEL = 0.05
LO, HI = binom.ppf(0.0005, REPS, LEVEL), binom.ppf(0.9995, REPS, LEVEL)


@pytest.fixture(scope="module")
def null_pvalues() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20261207)
    out: dict[str, list[float]] = {"adf": [], "eg": [], "eg_min": [], "spread_adf": []}
    for _ in range(REPS):
        out["adf"].append(adf(np.cumsum(rng.normal(size=N))).pvalue)
        y, x = np.cumsum(rng.normal(size=N)), np.cumsum(rng.normal(size=N))
        eg = engle_granger(y, x, autolag=REPORTED_AUTOLAG)
        out["eg"].append(eg.pvalue)
        out["eg_min"].append(eg.pvalue_min)
        resid = hedge_ratio(y, x).residuals
        out["spread_adf"].append(spread_adf(resid, autolag=REPORTED_AUTOLAG).pvalue)
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("test", ["adf", "eg", "spread_adf"])
def test_rejection_rate_is_nominal(null_pvalues: dict[str, np.ndarray], test: str) -> None:
    rejections = int((null_pvalues[test] < LEVEL).sum())
    assert LO <= rejections <= HI, f"{test}: {rejections}/{REPS} rejections, want {LO}..{HI}"


def test_the_minimum_over_both_directions_is_not_a_p_value(
    null_pvalues: dict[str, np.ndarray],
) -> None:
    """Why the direction is fixed: the smaller of the two p-values rejects far too often."""
    assert int((null_pvalues["eg_min"] < LEVEL).sum()) > HI
