"""Tables of the dashboard with units people read: prices in quote units, changes in percent,
per-bar returns in basis points; rows for symbols with too little data say so instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: (column of PriceSummary, header with unit, scale)
PRICE_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("n", "bars", 1.0),
    ("first", "first", 1.0),
    ("last", "last", 1.0),
    ("min", "min", 1.0),
    ("max", "max", 1.0),
    ("change_pct", "change (%)", 1.0),
    ("return_mean", "mean return per bar (bps)", 1e4),
    ("return_std", "return std per bar (bps)", 1e4),
    ("skew", "skew", 1.0),
    ("kurtosis", "excess kurtosis", 1.0),
)


def price_stats_row(symbol: str, close: np.ndarray) -> dict[str, object]:
    """One symbol's price statistics with units; fewer than 2 finite closes give empty cells
    and a note instead of an error."""
    from statarb.analytics.rolling import price_summary

    c = np.asarray(close, dtype=float)
    c = c[np.isfinite(c)]
    row: dict[str, object] = {"symbol": symbol}
    if len(c) < 2:
        row.update({h: (len(c) if k == "n" else np.nan) for k, h, _ in PRICE_COLUMNS})
        row["note"] = f"{len(c)} bar(s): statistics need at least 2"
        return row
    s = price_summary(c).to_dict()
    row.update({h: float(s[k]) * scale for k, h, scale in PRICE_COLUMNS})
    row["bars"] = int(s["n"])
    row["note"] = ""
    return row


def price_stats_table(bars: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Price statistics of each symbol's bars (``close`` column), one row per symbol."""
    return pd.DataFrame(
        [price_stats_row(sym, frame["close"].to_numpy()) for sym, frame in bars.items()]
    )


def pair_stats_table(stats: Mapping[str, object], *, a: str, b: str) -> pd.DataFrame:
    """The pair report as rows of (statistic, value) with units: volatilities in percent a
    year, half-life in bars, p-values as they are; other fields pass through."""
    labels = {
        "vol_a": (f"volatility {a} (annualized, %)", 100.0),
        "vol_b": (f"volatility {b} (annualized, %)", 100.0),
        "half_life": ("half-life (bars)", 1.0),
        "correlation": ("return correlation", 1.0),
        "adf_pvalue": ("ADF p-value of the spread", 1.0),
        "eg_pvalue": ("Engle-Granger p-value (y on x)", 1.0),
        "n": ("bars", 1.0),
    }
    rows = []
    for key, value in stats.items():
        name, scale = labels.get(key, (key.replace("_", " "), 1.0))
        if isinstance(value, bool) or not isinstance(value, int | float):
            text = "-" if value is None else str(value)
        elif value != value:  # NaN
            text = "-"
        else:
            text = format(float(value) * scale, ".6g")
        rows.append({"statistic": name, "value": text})
    return pd.DataFrame(rows)


__all__ = ["PRICE_COLUMNS", "pair_stats_table", "price_stats_row", "price_stats_table"]
