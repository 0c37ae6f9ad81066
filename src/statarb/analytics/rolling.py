"""Rolling correlation, realised volatility and a price-statistics summary."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from statarb._typing import Float64Array
from statarb.analytics._validate import as_float_array, check_finite, check_min_length, check_window
from statarb.errors import InputError

#: Seconds in a crypto year (crypto trades 365 days x 24 h).
SECONDS_PER_YEAR = 365 * 86_400


def bars_per_year(bar_seconds: float) -> float:
    """Bars in a 365-day year for a bar length in seconds."""
    if not bar_seconds > 0:
        raise InputError(f"bar_seconds must be positive, got {bar_seconds!r}")
    return SECONDS_PER_YEAR / bar_seconds


def periods_per_year(timeframe: str) -> float:
    """Bars of ``timeframe`` (``"1s"``, ``"1m"``, ``"15m"``, ``"1h"`` ...) in a 365-day year.

    The one annualisation factor of the product: Sharpe, Sortino and volatility multiply by its
    square root, whichever page or command shows them.

    >>> periods_per_year("15m")
    35040.0
    """
    from statarb.model import Timeframe

    return bars_per_year(Timeframe.parse(timeframe).seconds)


def _returns(p: Float64Array, log: bool) -> Float64Array:
    if (p <= 0).any():
        raise InputError("returns need strictly positive prices")
    return np.diff(np.log(p)) if log else np.diff(p) / p[:-1]


def rolling_correlation(
    a: Any,
    b: Any,
    *,
    window: int,
    on: Literal["returns", "prices"] = "returns",
    log: bool = True,
) -> Float64Array:
    """Rolling Pearson correlation over windows ending at ``t`` (inclusive).

    With ``on="returns"`` the output is aligned with the prices: index ``t`` holds the correlation
    of the returns ending at ``t`` (NaN at 0 and during warm-up). Equal to pandas
    ``Series.rolling(window).corr``.
    """
    import pandas as pd

    pa, pb = as_float_array(a, "a"), as_float_array(b, "b")
    if len(pa) != len(pb):
        raise InputError(f"a and b must have the same length, got {len(pa)} and {len(pb)}")
    check_finite(pa, "a")
    check_finite(pb, "b")
    if on == "returns":
        ra, rb = _returns(pa, log), _returns(pb, log)
        window = check_window(window, len(ra))
        corr = pd.Series(ra).rolling(window).corr(pd.Series(rb)).to_numpy()
        return np.r_[np.nan, corr]
    if on != "prices":
        raise InputError(f"on must be 'returns' or 'prices', got {on!r}")
    window = check_window(window, len(pa))
    return pd.Series(pa).rolling(window).corr(pd.Series(pb)).to_numpy()


def realized_volatility(
    close: Any, *, window: int, bar_seconds: float, annualize: bool = True
) -> Float64Array:
    """Rolling standard deviation of log returns (ddof 1), annualised to a 365 x 24 h year.

    Index ``t`` holds the volatility of the ``window`` returns ending at ``t``.
    """
    import pandas as pd

    p = as_float_array(close, "close")
    check_finite(p, "close")
    r = _returns(p, True)
    window = check_window(window, len(r))
    vol = pd.Series(r).rolling(window).std().to_numpy()
    if annualize:
        vol = vol * math.sqrt(bars_per_year(bar_seconds))
    return np.r_[np.nan, vol]


@dataclass(frozen=True)
class PriceSummary:
    """Summary statistics of a price series and its simple returns.

    ``skew`` and ``kurtosis`` follow pandas (bias-corrected; kurtosis is the excess over 3).
    """

    n: int
    first: float
    last: float
    min: float
    max: float
    mean: float
    std: float
    change: float
    change_pct: float
    return_mean: float
    return_std: float
    skew: float
    kurtosis: float
    volume: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields (NaN as None)."""
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in self.__dict__.items()
        }

    def summary(self) -> str:
        """One line of text."""
        return (
            f"last {self.last:.6g} ({self.change_pct:+.2f}%), range {self.min:.6g}-"
            f"{self.max:.6g}, return std {self.return_std:.4g}, n={self.n}"
        )


def price_summary(close: Any, *, volume: Any = None) -> PriceSummary:
    """Price statistics summary: level, change, return moments."""
    import pandas as pd

    p = as_float_array(close, "close")
    check_finite(p, "close")
    check_min_length(p, 2, "close")
    r = pd.Series(np.diff(p) / p[:-1])
    vol = None
    if volume is not None:
        vol = float(as_float_array(volume, "volume").sum())
    nan = float("nan")
    return PriceSummary(
        n=len(p),
        first=float(p[0]),
        last=float(p[-1]),
        min=float(p.min()),
        max=float(p.max()),
        mean=float(p.mean()),
        std=float(p.std(ddof=1)),
        change=float(p[-1] - p[0]),
        change_pct=float((p[-1] / p[0] - 1) * 100) if p[0] else nan,
        return_mean=float(r.mean()),
        return_std=float(r.std()),
        skew=float(r.skew()) if len(r) > 2 else nan,
        kurtosis=float(r.kurt()) if len(r) > 3 else nan,
        volume=vol,
    )


__all__ = [
    "SECONDS_PER_YEAR",
    "PriceSummary",
    "bars_per_year",
    "periods_per_year",
    "price_summary",
    "realized_volatility",
    "rolling_correlation",
]
