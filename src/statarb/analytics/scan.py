"""Rank every pair of a symbol set by cointegration, half-life, correlation and liquidity.

With hundreds of pairs tested, some look cointegrated by chance; p-values are also reported
corrected for multiple testing (Benjamini-Hochberg) so a user sees which pairs stay significant.
"""

from __future__ import annotations

import itertools
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from statarb.analytics.liquidity import LiquidityStats
from statarb.errors import InputError, StatarbWarning

COLUMNS = (
    "a",
    "b",
    "pvalue",
    "pvalue_adj",
    "significant",
    "statistic",
    "dependent",
    "hedge_ratio",
    "half_life",
    "correlation",
    "n",
    "notional_a",
    "notional_b",
)


@dataclass(frozen=True)
class ScanResult:
    """The ranked pair table (``table``: a DataFrame with :data:`COLUMNS`)."""

    table: Any
    alpha: float
    tested: int

    @property
    def significant(self) -> Any:
        """Rows that stay significant after the Benjamini-Hochberg correction."""
        return self.table[self.table["significant"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe rows."""
        rows = self.table.replace({np.inf: None, -np.inf: None}).astype(object)
        rows = rows.where(rows.notna(), None)
        return {"alpha": self.alpha, "tested": self.tested, "pairs": rows.to_dict("records")}

    def summary(self) -> str:
        """One line of text."""
        return (
            f"{self.tested} pairs tested, {int(self.table['significant'].sum())} significant "
            f"after Benjamini-Hochberg at {self.alpha:g}"
        )


def _one_pair(y: np.ndarray, x: np.ndarray) -> dict[str, Any]:
    from statarb.analytics.meanreversion import half_life
    from statarb.analytics.stationarity import engle_granger

    eg = engle_granger(y, x)
    best = eg.best
    if best.dependent == "y":
        spread = y - (best.beta * x + best.intercept)
    else:
        spread = x - (best.beta * y + best.intercept)
    try:
        hl = half_life(spread).half_life
    except InputError:
        hl = math.nan
    ry, rx = np.diff(y), np.diff(x)
    corr = float(np.corrcoef(ry, rx)[0, 1]) if ry.std() > 0 and rx.std() > 0 else math.nan
    return {
        "pvalue": best.pvalue,
        "statistic": best.statistic,
        "dependent": best.dependent,
        "hedge_ratio": best.beta,
        "half_life": hl,
        "correlation": corr,
        "n": len(y),
    }


def _single_thread_blas() -> None:
    """Worker initialiser: one BLAS thread per process (small matrices, one process per core)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _chunk(data: np.ndarray, pairs: list[tuple[int, int]]) -> list[dict[str, Any]]:
    out = []
    for i, j in pairs:
        both = np.isfinite(data[:, i]) & np.isfinite(data[:, j])
        y, x = data[both, i], data[both, j]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", StatarbWarning)
            try:
                row = _one_pair(y, x)
            except InputError as exc:
                row = {"pvalue": math.nan, "note": str(exc), "n": len(y)}
        if caught:
            row["note"] = "; ".join(str(w.message) for w in caught)
        out.append(row)
    return out


def scan_pairs(
    prices: Any,
    *,
    transform: Literal["price", "log"] = "log",
    liquidity: Mapping[str, LiquidityStats] | None = None,
    min_obs: int = 100,
    workers: int | None = None,
    alpha: float = 0.05,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> ScanResult:
    """Test and rank all N(N-1)/2 pairs of the columns of ``prices``.

    Parameters
    ----------
    prices
        Aligned closes, a DataFrame with one column per symbol (NaN where a leg has no bar).
    transform
        Test log prices (default) or prices.
    liquidity
        Per-symbol :class:`LiquidityStats`; adds both legs' notional to the table.
    min_obs
        Pairs with fewer common bars are reported untested.
    workers
        Processes to use (default: all cores; 1 runs in this process).
    alpha
        False-discovery rate for the ``significant`` column.
    pairs
        Only these pairs (default: all).
    """
    import pandas as pd

    if not hasattr(prices, "columns"):
        raise InputError("prices must be a DataFrame with one column per symbol")
    cols = [str(c) for c in prices.columns]
    if len(cols) < 2:
        raise InputError(f"a scan needs at least two symbols, got {cols}")
    data = prices.to_numpy(dtype=np.float64)
    if transform == "log":
        if (data[np.isfinite(data)] <= 0).any():
            raise InputError("transform='log' needs strictly positive prices")
        data = np.log(data)
    pos = {c: k for k, c in enumerate(cols)}
    if pairs is None:
        idx = list(itertools.combinations(range(len(cols)), 2))
    else:
        try:
            idx = [(pos[a], pos[b]) for a, b in pairs]
        except KeyError as exc:
            raise InputError(f"unknown symbol {exc} in pairs; have {cols}") from exc
    counts = np.isfinite(data).astype(np.int64)
    enough = [(i, j) for i, j in idx if int((counts[:, i] & counts[:, j]).sum()) >= min_obs]
    workers = workers or os.cpu_count() or 1
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    if workers <= 1 or len(enough) < 8:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            rows.update(zip(enough, _chunk(data, enough), strict=True))
    else:
        size = max(1, math.ceil(len(enough) / (workers * 4)))
        parts = [enough[k : k + size] for k in range(0, len(enough), size)]
        with ProcessPoolExecutor(max_workers=workers, initializer=_single_thread_blas) as pool:
            for part, res in zip(parts, pool.map(_chunk, [data] * len(parts), parts), strict=True):
                rows.update(zip(part, res, strict=True))
    records = []
    for i, j in idx:
        r = rows.get((i, j), {"pvalue": math.nan, "n": int((counts[:, i] & counts[:, j]).sum())})
        liq_a = liquidity.get(cols[i]) if liquidity else None
        liq_b = liquidity.get(cols[j]) if liquidity else None
        records.append(
            {
                "a": cols[i],
                "b": cols[j],
                **r,
                "notional_a": liq_a.notional if liq_a else math.nan,
                "notional_b": liq_b.notional if liq_b else math.nan,
            }
        )
    table = pd.DataFrame.from_records(records)
    for c in COLUMNS:
        if c not in table:
            table[c] = math.nan
    tested = table["pvalue"].notna()
    table["pvalue_adj"] = math.nan
    table["significant"] = False
    if tested.any():
        from statsmodels.stats.multitest import multipletests

        rej, adj, _, _ = multipletests(
            table.loc[tested, "pvalue"].to_numpy(), alpha=alpha, method="fdr_bh"
        )
        table.loc[tested, "pvalue_adj"] = adj
        table.loc[tested, "significant"] = rej
    table = table.sort_values(["pvalue", "half_life"], na_position="last", kind="stable")
    extra = [c for c in table.columns if c not in COLUMNS]
    table = table[list(COLUMNS) + extra].reset_index(drop=True)
    return ScanResult(table, alpha, int(tested.sum()))


__all__ = ["COLUMNS", "ScanResult", "scan_pairs"]
