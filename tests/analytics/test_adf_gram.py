"""The ADF design's cross products from the banded recursion equal the explicit design's."""

import numpy as np
import pytest

from statarb.analytics._adf_gram import adf_gram
from statarb.analytics.stationarity import _design


@pytest.mark.parametrize("regression", ["n", "c", "ct", "ctt"])
@pytest.mark.parametrize(("n", "maxlag"), [(60, 0), (60, 1), (100, 5), (1_500, 10), (20_000, 40)])
def test_gram_equals_the_explicit_design(regression, n, maxlag):
    rng = np.random.default_rng(n + maxlag)
    x = 84_000 + np.cumsum(rng.normal(0, 5, n))  # a price level far from zero
    X, y = _design(x, maxlag, regression)
    gram, xty, yy, nobs = adf_gram(x, maxlag, regression)
    want = X.T @ X
    norm = np.sqrt(np.outer(np.diag(want), np.diag(want)))
    assert nobs == len(y)
    assert np.max(np.abs(gram - want) / norm) < 1e-13
    assert np.max(np.abs(xty - X.T @ y)) < 1e-13 * np.sqrt(yy * np.diag(want).max())
    assert yy == pytest.approx(float(y @ y), rel=1e-13)
    np.testing.assert_array_equal(gram, gram.T)
