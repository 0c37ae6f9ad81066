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


__all__ = ["PRICE_COLUMNS", "price_stats_row", "price_stats_table"]
