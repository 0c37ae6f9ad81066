"""Rank every pair of a symbol set by Engle-Granger cointegration, half-life and correlation.

The test of each pair is Engle-Granger in ONE direction fixed before testing, by a rule that
ignores the outcome: ``y`` (the dependent, column ``a``) is the symbol that comes first in the
input order, ``x`` (column ``b``) the other. Its p-value is MacKinnon's for the cointegration
test with two variables (statsmodels ``mackinnonp(stat, "c", N=2)``), so under the null (no
cointegration) it is uniform and 5% of independent random walks fall below 0.05. Keeping the
better of the two directions would not be: about twice as many would.

With hundreds of pairs tested, some look cointegrated by chance; p-values are therefore also
corrected for multiple testing (Benjamini-Hochberg) over every pair that was tested. Pairs left
out by the optional prefilter count as tests in the correction, with p-value 1 (a valid,
conservative p-value), so the prefilter cannot make the correction lighter. Pairs without
``min_obs`` common bars, or with a constant leg, are not tests and are not counted.

The work is split so that executors can share it out (see :mod:`statarb.scanning`):

1. :func:`prepare` turns prices into a Fortran-ordered log-price matrix and computes every
   pair's OLS hedge from shared cross-products of that matrix (``X'X``, the covariance of the
   universe, on each pair's common bars): one pass over the data for all pairs;
2. :func:`scan_chunk` (pure, no I/O) runs the residual ADF of a chunk of pairs with the fast
   Cholesky lag search of :mod:`statarb.analytics._scan_kernels`;
3. :func:`finish` adds p-values, the correction and the table.

:func:`scan_pairs` runs the three steps in this process.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from statarb._typing import Float64Array
from statarb.analytics.liquidity import LiquidityStats
from statarb.analytics.stationarity import REPORTED_AUTOLAG
from statarb.errors import InputError

Autolag = Literal["AIC", "BIC", "t-stat"]

COLUMNS = (
    "a",
    "b",
    "pvalue",
    "pvalue_adj",
    "significant",
    "statistic",
    "used_lag",
    "hedge_ratio",
    "intercept",
    "half_life",
    "correlation",
    "n",
    "status",
    "notional_a",
    "notional_b",
)

#: status of a pair in the table (codes of the kernel)
STATUS = ("ok", "short", "constant", "collinear", "prefiltered", "singular")
_AUTOLAG = {None: 0, "AIC": 1, "BIC": 2, "t-stat": 3}
_SQRTEPS = float(np.sqrt(np.finfo(np.float64).eps))


@dataclass(frozen=True)
class ScanParams:
    """What a scan computes; everything that changes a result is in :meth:`key`.

    Parameters
    ----------
    transform
        Test log prices (default) or prices.
    autolag
        Lag selection of the residual ADF (statsmodels ``coint`` uses ``"AIC"``); ``None`` uses
        ``maxlag``.
    maxlag
        Largest lag; ``None`` is statsmodels' ``ceil(12 (n/100)^¼)`` (capped at ``n/2 - 1``).
    min_obs
        Pairs with fewer common bars are not tested (at least 20).
    min_corr
        Optional prefilter: pairs whose log-price correlation ``|r|`` is below it are not
        tested, and count in the correction with p-value 1.
    alpha
        False-discovery rate of the ``significant`` column.
    """

    transform: Literal["price", "log"] = "log"
    autolag: Autolag | None = REPORTED_AUTOLAG
    maxlag: int | None = None
    min_obs: int = 100
    min_corr: float | None = None
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if self.transform not in ("price", "log"):
            raise InputError(f"transform must be 'price' or 'log', got {self.transform!r}")
        if self.autolag not in _AUTOLAG:
            raise InputError(
                f"autolag must be 'AIC', 'BIC', 't-stat' or None, not {self.autolag!r}"
            )
        if self.maxlag is not None and not 0 <= self.maxlag <= 10_000:
            raise InputError(f"maxlag must be between 0 and 10000, got {self.maxlag}")
        if not 20 <= self.min_obs <= 100_000_000:
            raise InputError(f"min_obs must be at least 20, got {self.min_obs}")
        if self.min_corr is not None and not 0.0 <= self.min_corr < 1.0:
            raise InputError(f"min_corr must be in [0, 1), got {self.min_corr}")
        if not 0.0 < self.alpha < 1.0:
            raise InputError(f"alpha must be in (0, 1), got {self.alpha}")

    def key(self) -> str:
        """The parameters that change a pair's numbers, as a short stable string."""
        return (
            f"eg-c-fixed;t={self.transform};al={self.autolag};ml={self.maxlag};"
            f"mo={self.min_obs};mc={self.min_corr}"
        )


@dataclass(frozen=True)
class ScanInput:
    """The prepared universe: what every chunk needs (shipped to workers once).

    ``data`` is the (Fortran-ordered) matrix of transformed prices, NaN where a symbol has no
    bar; ``full`` flags columns without NaN; ``iy``/``ix`` index the pairs (dependent, regressor)
    and ``beta``/``alpha``/``r2``/``n``/``status`` hold each pair's OLS from the cross-products.
    """

    symbols: tuple[str, ...]
    data: Float64Array
    full: np.ndarray
    iy: np.ndarray
    ix: np.ndarray
    beta: Float64Array
    alpha: Float64Array
    r2: Float64Array
    n: np.ndarray
    status: np.ndarray
    params: ScanParams
    fingerprints: tuple[str, ...] = field(default=())

    @property
    def pairs(self) -> int:
        """Number of pairs."""
        return len(self.iy)

    def pair_names(self, k: int) -> tuple[str, str]:
        """(dependent, regressor) symbols of pair ``k``."""
        return self.symbols[int(self.iy[k])], self.symbols[int(self.ix[k])]


@dataclass(frozen=True)
class ChunkResult:
    """Numbers of a chunk of pairs (positions ``index`` in the pair list)."""

    index: np.ndarray
    statistic: Float64Array
    used_lag: np.ndarray
    nobs: np.ndarray
    icbest: Float64Array
    hl_b: Float64Array
    correlation: Float64Array
    status: np.ndarray


@dataclass(frozen=True)
class ScanResult:
    """The ranked pair table (``table``: a DataFrame with :data:`COLUMNS`)."""

    table: Any
    alpha: float
    tested: int
    prefiltered: int = 0
    test: str = "Engle-Granger (a on b, fixed direction), MacKinnon p-value N=2, constant"

    @property
    def significant(self) -> Any:
        """Rows that stay significant after the Benjamini-Hochberg correction."""
        return self.table[self.table["significant"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe rows."""
        rows = self.table.replace({np.inf: None, -np.inf: None}).astype(object)
        rows = rows.where(rows.notna(), None)
        return {
            "alpha": self.alpha,
            "tested": self.tested,
            "prefiltered": self.prefiltered,
            "test": self.test,
            "correction": "Benjamini-Hochberg over tested and prefiltered pairs "
            "(prefiltered at p = 1)",
            "pairs": rows.to_dict("records"),
        }

    def summary(self) -> str:
        """One line of text."""
        pre = f" (+{self.prefiltered} prefiltered, counted at p=1)" if self.prefiltered else ""
        return (
            f"{self.tested} pairs tested{pre}, {int(self.table['significant'].sum())} significant "
            f"after Benjamini-Hochberg at {self.alpha:g}; test: {self.test}"
        )


def _matrix(prices: Any, transform: str) -> tuple[list[str], Float64Array]:
    if not hasattr(prices, "columns"):
        raise InputError("prices must be a DataFrame with one column per symbol")
    cols = [str(c) for c in prices.columns]
    if len(cols) < 2:
        raise InputError(f"a scan needs at least two symbols, got {cols}")
    if len(set(cols)) != len(cols):
        raise InputError(f"symbols must be distinct, got {cols}")
    data = np.asarray(prices.to_numpy(dtype=np.float64), dtype=np.float64)
    if np.isinf(data).any():
        raise InputError("prices must be finite or NaN (no bar); found an infinite value")
    if transform == "log":
        if (data[np.isfinite(data)] <= 0).any():
            bad = [c for k, c in enumerate(cols) if (data[:, k] <= 0).any()]
            raise InputError(f"transform='log' needs strictly positive prices; see {bad}")
        data = np.log(data)
    return cols, np.asfortranarray(data)


def pair_index(n_symbols: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(i, j)``, ``i < j``, in input order: ``i`` is the dependent (fixed rule)."""
    iy, ix = np.triu_indices(n_symbols, k=1)
    return iy.astype(np.int64), ix.astype(np.int64)


def pair_moments(
    data: Float64Array, iy: np.ndarray, ix: np.ndarray
) -> tuple[Float64Array, Float64Array, Float64Array, np.ndarray, Float64Array, Float64Array]:
    """OLS of every pair (column ``iy`` on column ``ix`` with a constant) from shared products.

    Columns are centred by their own mean first; then one matrix product ``Z'Z`` (the
    universe's covariance, times n) gives every pair's ``Sxy``; where columns have gaps, three
    more products give the sums on each pair's common rows.

    Returns ``beta, alpha, r2, n, sxx, syy`` per pair.
    """
    finite = np.isfinite(data)
    center = np.zeros(data.shape[1])
    has = finite.any(axis=0)
    center[has] = np.nanmean(data[:, has], axis=0)
    z = np.where(finite, data - center, 0.0)
    zz = z.T @ z
    if finite.all():
        nrow = data.shape[0]
        cnt = np.full(zz.shape, float(nrow))
        s1 = np.broadcast_to(z.sum(axis=0)[:, None], zz.shape)
        s2 = np.broadcast_to(np.diag(zz)[:, None], zz.shape)
    else:
        m = finite.astype(np.float64)
        cnt = m.T @ m
        s1 = z.T @ m  # s1[i, j]: sum of z_i on rows where i and j both have a bar
        s2 = (z * z).T @ m
    n = cnt[iy, ix]
    safe = np.maximum(n, 1.0)
    my = s1[iy, ix] / safe
    mx = s1[ix, iy] / safe
    sxy = zz[iy, ix] - n * my * mx
    sxx = s2[ix, iy] - n * mx * mx
    syy = s2[iy, ix] - n * my * my
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.where(sxx > 0, sxy / sxx, np.nan)
        r2 = np.where((sxx > 0) & (syy > 0), sxy * sxy / (sxx * syy), np.nan)
    alpha = (my + center[iy]) - beta * (mx + center[ix])
    return beta, alpha, r2, n.astype(np.int64), sxx, syy


def fingerprint(index: Any, column: Float64Array) -> str:
    """Content hash of one symbol's aligned column (with the time index): the cache key part."""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.ascontiguousarray(index).tobytes())
    h.update(np.ascontiguousarray(column, dtype=np.float64).tobytes())
    return h.hexdigest()


def prepare(
    prices: Any,
    params: ScanParams | None = None,
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> ScanInput:
    """Prices -> the prepared universe with each pair's OLS hedge (one pass over the data).

    Parameters
    ----------
    prices
        Aligned closes, a DataFrame with one column per symbol (NaN where a leg has no bar).
        The column order fixes each pair's direction: the earlier column is the dependent.
    params
        :class:`ScanParams` (defaults: log prices, AIC, statsmodels' maxlag).
    pairs
        Only these ``(dependent, regressor)`` pairs (default: every pair in column order).
    """
    params = params or ScanParams()
    cols, data = _matrix(prices, params.transform)
    if pairs is None:
        iy, ix = pair_index(len(cols))
    else:
        pos = {c: k for k, c in enumerate(cols)}
        try:
            iy = np.array([pos[str(a)] for a, _ in pairs], dtype=np.int64)
            ix = np.array([pos[str(b)] for _, b in pairs], dtype=np.int64)
        except KeyError as exc:
            raise InputError(f"unknown symbol {exc} in pairs; have {cols}") from exc
        if (iy == ix).any():
            raise InputError("a pair needs two different symbols")
    beta, alpha, r2, n, sxx, syy = pair_moments(data, iy, ix)
    finite = np.isfinite(data)
    const = np.array(
        [not f.any() or np.ptp(c[f]) == 0 for c, f in zip(data.T, finite.T, strict=True)]
    )
    status = np.zeros(len(iy), dtype=np.int64)
    if params.min_corr is not None:
        status[~(np.sqrt(np.nan_to_num(r2)) >= params.min_corr)] = STATUS.index("prefiltered")
    status[r2 >= 1 - 100 * _SQRTEPS] = STATUS.index("collinear")
    status[const[iy] | const[ix] | ~(sxx > 0) | ~(syy > 0)] = STATUS.index("constant")
    status[n < params.min_obs] = STATUS.index("short")
    fps = tuple(fingerprint(_index_values(prices), data[:, k]) for k in range(len(cols)))
    return ScanInput(
        tuple(cols),
        data,
        np.asarray(finite.all(axis=0)),
        iy,
        ix,
        beta,
        alpha,
        r2,
        n,
        status,
        params,
        fps,
    )


def _index_values(prices: Any) -> np.ndarray:
    """The time index as int64 ns (or float row labels) for the fingerprint."""
    index = prices.index
    if hasattr(index, "asi8") and index.asi8 is not None:
        return np.asarray(index.asi8, dtype=np.int64)
    return np.asarray(index, dtype=np.float64)


def scan_chunk(inp: ScanInput, index: np.ndarray) -> ChunkResult:
    """Residual ADF of the pairs at positions ``index`` (pure: no I/O, same input same output).

    Parameters
    ----------
    inp
        The prepared universe (:func:`prepare`).
    index
        Positions in ``inp``'s pair list.
    """
    from statarb.analytics._scan_kernels import eg_pairs

    index = np.asarray(index, dtype=np.int64)
    status = inp.status[index].copy()
    maxlag = -1 if inp.params.maxlag is None else int(inp.params.maxlag)
    stat, lag, nobs, icb, hl_b, corr = eg_pairs(
        inp.data,
        inp.full,
        inp.iy[index],
        inp.ix[index],
        inp.beta[index],
        inp.alpha[index],
        status,
        maxlag,
        _AUTOLAG[inp.params.autolag],
    )
    return ChunkResult(index, stat, lag, nobs, icb, hl_b, corr, status)


def chunks(inp: ScanInput, size: int, todo: np.ndarray | None = None) -> list[np.ndarray]:
    """Split the pairs to compute (all, or positions ``todo``) into chunks of ``size`` pairs."""
    if size < 1:
        raise InputError(f"chunk size must be >= 1, got {size}")
    idx = np.arange(inp.pairs, dtype=np.int64) if todo is None else np.asarray(todo, np.int64)
    return [idx[k : k + size] for k in range(0, len(idx), size)]


def merge(inp: ScanInput, parts: Sequence[ChunkResult]) -> ChunkResult:
    """One :class:`ChunkResult` over all pairs, in pair order, from chunk results."""
    n = inp.pairs
    out = ChunkResult(
        np.arange(n, dtype=np.int64),
        np.full(n, np.nan),
        np.full(n, -1, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.full(n, np.nan),
        np.full(n, np.nan),
        np.full(n, np.nan),
        inp.status.copy(),
    )
    seen = np.zeros(n, dtype=bool)
    for part in parts:
        for name in ("statistic", "used_lag", "nobs", "icbest", "hl_b", "correlation", "status"):
            getattr(out, name)[part.index] = getattr(part, name)
        seen[part.index] = True
    if not seen.all():
        raise InputError(f"{int((~seen).sum())} pairs have no result; every chunk must run")
    return out


def _half_life(b: Float64Array) -> Float64Array:
    phi = 1.0 + b
    with np.errstate(invalid="ignore", divide="ignore"):
        hl = np.where((b < 0) & (phi > 0), -math.log(2.0) / np.log(np.where(phi > 0, phi, 1)), 0)
    hl = np.where(b >= 0, np.inf, hl)
    return np.where(np.isfinite(b) & ~((b < 0) & (phi <= 0)), hl, np.nan)


def pvalues(statistic: Float64Array) -> Float64Array:
    """MacKinnon's asymptotic p-values of Engle-Granger statistics (two variables, constant)."""
    from statarb.analytics._mackinnon import mackinnonp

    out = np.full(len(statistic), np.nan)
    for k, s in enumerate(statistic):
        if not np.isnan(s):
            out[k] = float(mackinnonp(float(s), regression="c", N=2))
    return out


def finish(
    inp: ScanInput,
    res: ChunkResult,
    *,
    liquidity: Mapping[str, LiquidityStats] | None = None,
) -> ScanResult:
    """P-values, the Benjamini-Hochberg correction and the ranked table of a full scan."""
    import pandas as pd

    status = res.status
    ok = (status == 0) | (status == STATUS.index("collinear"))
    pv = np.where(ok, pvalues(np.where(ok, res.statistic, np.nan)), np.nan)
    pre = status == STATUS.index("prefiltered")
    counted = ok | pre
    adj = np.full(inp.pairs, np.nan)
    sig = np.zeros(inp.pairs, dtype=bool)
    if counted.any():
        from statsmodels.stats.multitest import multipletests

        p_all = np.where(pre, 1.0, pv)[counted]
        rej, p_adj, _, _ = multipletests(p_all, alpha=inp.params.alpha, method="fdr_bh")
        adj[counted] = p_adj
        sig[counted] = rej
    sym = np.array(inp.symbols, dtype=object)

    def notional(k: np.ndarray) -> list[float]:
        stats = [liquidity.get(str(s)) if liquidity else None for s in sym[k]]
        return [s.notional if s else math.nan for s in stats]

    show = ok
    table = pd.DataFrame(
        {
            "a": sym[inp.iy],
            "b": sym[inp.ix],
            "pvalue": pv,
            "pvalue_adj": adj,
            "significant": sig,
            "statistic": np.where(ok, res.statistic, np.nan),
            "used_lag": np.where(ok, res.used_lag, -1),
            "hedge_ratio": np.where(show | pre, inp.beta, np.nan),
            "intercept": np.where(show | pre, inp.alpha, np.nan),
            "half_life": np.where(ok, _half_life(res.hl_b), np.nan),
            "correlation": res.correlation,
            "n": inp.n,
            "status": np.array(STATUS, dtype=object)[status],
            "notional_a": notional(inp.iy),
            "notional_b": notional(inp.ix),
        }
    )
    table = table.sort_values(["pvalue", "half_life"], na_position="last", kind="stable")
    return ScanResult(table.reset_index(drop=True), inp.params.alpha, int(ok.sum()), int(pre.sum()))


def scan_pairs(
    prices: Any,
    *,
    transform: Literal["price", "log"] = "log",
    liquidity: Mapping[str, LiquidityStats] | None = None,
    min_obs: int = 100,
    alpha: float = 0.05,
    autolag: Autolag | None = REPORTED_AUTOLAG,
    maxlag: int | None = None,
    min_corr: float | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> ScanResult:
    """Test and rank all N(N-1)/2 pairs of the columns of ``prices``, in this process.

    Each pair is tested in the fixed direction: the earlier column regressed on the later one.
    For chunked, cached, parallel or distributed runs use :func:`statarb.scanning.run_scan`,
    which gives the same table.

    Parameters
    ----------
    prices
        Aligned closes, a DataFrame with one column per symbol (NaN where a leg has no bar).
    transform, autolag, maxlag, min_obs, min_corr, alpha
        See :class:`ScanParams`.
    liquidity
        Per-symbol :class:`LiquidityStats`; adds both legs' notional to the table.
    pairs
        Only these ``(dependent, regressor)`` pairs (default: all, in column order).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = np.cumsum(rng.normal(0, 0.01, 500))
    >>> px = pd.DataFrame({"A": np.exp(f + rng.normal(0, 0.002, 500)),
    ...                    "B": np.exp(1 + f + rng.normal(0, 0.002, 500))})
    >>> bool(scan_pairs(px).table.loc[0, "significant"])
    True
    """
    params = ScanParams(
        transform=transform,
        autolag=autolag,
        maxlag=maxlag,
        min_obs=min_obs,
        min_corr=min_corr,
        alpha=alpha,
    )
    inp = prepare(prices, params, pairs=pairs)
    part = scan_chunk(inp, np.arange(inp.pairs, dtype=np.int64))
    return finish(inp, merge(inp, [part]), liquidity=liquidity)


__all__ = [
    "COLUMNS",
    "STATUS",
    "ChunkResult",
    "ScanInput",
    "ScanParams",
    "ScanResult",
    "chunks",
    "finish",
    "merge",
    "pair_index",
    "pair_moments",
    "prepare",
    "pvalues",
    "scan_chunk",
    "scan_pairs",
]
