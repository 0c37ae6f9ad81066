"""MacKinnon's tables kept in statarb equal statsmodels' (p-values and critical values)."""

import numpy as np
import pytest
from scipy.special import ndtr
from statsmodels.tsa.adfvalues import mackinnoncrit, mackinnonp

from statarb.analytics import _mackinnon as mk
from statarb.errors import InputError


@pytest.mark.parametrize("regression", ["c", "n", "ct", "ctt"])
@pytest.mark.parametrize("n_series", [1, 2, 3, 6])
def test_pvalues_equal_statsmodels(regression, n_series):
    for stat in np.linspace(-30.0, 4.0, 1361):
        want = mackinnonp(stat, regression=regression, N=n_series)
        got = mk.mackinnonp(float(stat), regression=regression, N=n_series)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("regression", ["c", "ct", "ctt"])
def test_critical_values_equal_statsmodels(regression):
    for n_series in range(1, 13):
        for nobs in (np.inf, 8, 25, 100, 1000, 40_319):
            want = mackinnoncrit(N=n_series, regression=regression, nobs=nobs)
            np.testing.assert_array_equal(mk.mackinnoncrit(n_series, regression, nobs), want)
    np.testing.assert_array_equal(mk.mackinnoncrit(1, "n", 500), mackinnoncrit(1, "n", 500))


def test_norm_cdf_equals_scipy_ndtr():
    for x in np.r_[np.linspace(-40, 40, 4001), -0.7071, 0.7071, 0.0]:
        assert mk.norm_cdf(float(x)) == pytest.approx(float(ndtr(x)), rel=1e-12, abs=1e-300)


def test_bad_arguments_name_the_field():
    with pytest.raises(InputError, match="regression"):
        mk.mackinnonp(-3.0, regression="x")
    with pytest.raises(InputError, match="N must be"):
        mk.mackinnonp(-3.0, N=7)
    with pytest.raises(InputError, match="N must be"):
        mk.mackinnoncrit(2, "n")
