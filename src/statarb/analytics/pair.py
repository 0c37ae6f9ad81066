"""One-call analysis of a pair: hedge ratio, spread, z-score, stationarity, half-life, correlation.

This is what the CLI (``statarb pair``), the API and the dashboard show for two symbols.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from statarb._typing import Float64Array
from statarb.analytics._validate import pair_arrays
from statarb.analytics.kalman import DEFAULT_DELTA, DEFAULT_WARMUP, kalman_hedge
from statarb.analytics.meanreversion import half_life
from statarb.analytics.regression import hedge_ratio, rolling_hedge_ratio
from statarb.analytics.rolling import bars_per_year
from statarb.analytics.spread import zscore
from statarb.analytics.stationarity import REPORTED_AUTOLAG, engle_granger, spread_adf
from statarb.errors import InputError

PairMethod = Literal["ols", "huber", "theil-sen", "kalman"]
MIN_BARS = 30


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


@dataclass(frozen=True)
class PairAnalysis:
    """Everything :func:`analyze_pair` computed; ``series`` holds the paths for display."""

    a: str
    b: str
    method: str
    transform: str
    window: int | None
    z_window: int
    hedge_ratio: float
    intercept: float
    in_sample: bool
    adf_stat: float
    adf_pvalue: float
    adf_verdict: str
    eg_pvalue: float
    eg_verdict: str
    half_life: float
    correlation: float
    vol_a: float
    vol_b: float
    last_spread: float
    last_zscore: float
    n: int
    series: Any = field(repr=False, compare=False)
    warmup: int = 0
    adf_test: str = ""
    eg_test: str = "Engle-Granger (y on x, MacKinnon cointegration p-value)"
    eg_pvalue_reverse: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary numbers (no series; non-finite numbers as None)."""
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            if k == "series":
                continue
            out[k] = _num(v) if isinstance(v, float) else v
        return out

    def summary(self) -> str:
        """A few lines of text."""
        hl = f"{self.half_life:.1f} bars" if math.isfinite(self.half_life) else "none"
        return (
            f"{self.a}/{self.b} {self.method}: hedge ratio {self.hedge_ratio:.6g}, "
            f"intercept {self.intercept:.6g}{' (in-sample)' if self.in_sample else ''}\n"
            f"spread ADF p={self.adf_pvalue:.4g} ({self.adf_verdict}; {self.adf_test})\n"
            f"Engle-Granger {self.a} on {self.b} p={self.eg_pvalue:.4g} ({self.eg_verdict}); "
            f"half-life {hl}; return correlation {self.correlation:.3f}\n"
            f"last spread {self.last_spread:.6g}, z {self.last_zscore:.3f}, n={self.n}"
        )


def _index_of(y: Any, x: Any) -> Any:
    for s in (y, x):
        if hasattr(s, "index"):
            return s.index
    return None


def _hedge_paths(
    ya: Float64Array,
    xa: Float64Array,
    method: str,
    window: int | None,
    delta: float,
) -> tuple[Float64Array, Float64Array, float, float, bool, int]:
    """``(beta, alpha, last beta, last alpha, in_sample, warm-up bars)``."""
    if method == "kalman":
        warm = window or DEFAULT_WARMUP
        res = kalman_hedge(ya, xa, delta=delta, obs_var="auto", warmup=warm)
        # the reported hedge is the posterior after the last bar: the one to trade from now
        return res.beta, res.alpha, res.beta_last, res.alpha_last, False, warm
    if method not in ("ols", "huber", "theil-sen"):
        raise InputError(f"method must be ols, huber, theil-sen or kalman, got {method!r}")
    if window is not None:
        path = rolling_hedge_ratio(ya, xa, window=window, method=method)  # type: ignore[arg-type]
        b, a = path.beta, path.alpha
        return b, a, float(b[-1]), float(a[-1]), False, window - 1
    fit = hedge_ratio(ya, xa, method=method)  # type: ignore[arg-type]
    n = len(ya)
    return np.full(n, fit.beta), np.full(n, fit.intercept), fit.beta, fit.intercept, True, 0


def analyze_pair(
    y: Any,
    x: Any,
    *,
    method: PairMethod = "ols",
    window: int | None = None,
    transform: Literal["price", "log"] = "price",
    bar_seconds: float = 60.0,
    z_window: int = 60,
    a: str = "A",
    b: str = "B",
    delta: float = DEFAULT_DELTA,
) -> PairAnalysis:
    """Analyse the pair ``y`` (leg A) against ``x`` (leg B) on aligned bars.

    Parameters
    ----------
    y, x
        Aligned closes of the two legs (Series keep their index in ``series``).
    method
        Hedge-ratio estimator. With ``window`` (OLS, Huber, Theil-Sen) the hedge ratio is rolling
        and the reported value is the latest; without it the fit is full-sample (flagged
        ``in_sample``). ``"kalman"`` uses the filter's prior at each bar (data before the bar)
        for the spread ``y - beta_t x - alpha_t`` and its z-score (the signal); its warm-up bars
        (``window``, default :data:`~statarb.analytics.kalman.DEFAULT_WARMUP`) are NaN in
        ``series`` and left out of every statistic. The ADF test and the half-life describe the
        spread a trader would hold: ``y - beta x - alpha`` at the latest hedge, kept fixed over
        the post-warm-up bars (the one-step errors of an adaptive filter are nearly white and
        would always look stationary).
    window
        Rolling hedge-ratio window in bars (the warm-up with ``"kalman"``).
    transform
        Regress prices or log prices.
    bar_seconds
        Bar length, for annualised volatility.
    z_window
        Rolling z-score window (past and current bars only).
    a, b
        Leg names for the report.
    delta
        Kalman transition parameter.

    Notes
    -----
    ``adf_*`` test the spread with Engle-Granger/MacKinnon cointegration critical values (the
    hedge ratio is estimated; see :func:`~statarb.analytics.stationarity.spread_adf`).
    ``eg_*`` is the Engle-Granger test of ``y`` (leg ``a``) on ``x`` (leg ``b``), a direction
    fixed by the order the legs are named; ``eg_pvalue_reverse`` (x on y) is for information.
    Both choose the ADF lag by :data:`~statarb.analytics.stationarity.REPORTED_AUTOLAG` (BIC),
    whose rejection rate under the null is the nominal one.
    """
    index = _index_of(y, x)
    ya, xa = pair_arrays(y, x, min_length=MIN_BARS, transform=transform)
    n = len(ya)
    beta, alpha, hr, ic, in_sample, warm = _hedge_paths(ya, xa, method, window, delta)
    spread = ya - (beta * xa + alpha)
    ok = np.isfinite(spread)
    clean = spread[ok]
    if len(clean) < MIN_BARS:
        raise InputError(f"only {len(clean)} spread values after the warm-up; need {MIN_BARS}")
    zw = min(z_window, len(clean))
    z = zscore(spread, window=zw)
    held, held_label = clean, "the spread"
    if method == "kalman":  # the spread a trader holds from now: the latest hedge, kept fixed
        held = ya[ok] - (hr * xa[ok] + ic)
        held_label = "the spread at the latest Kalman hedge"
    adf_res = spread_adf(held, autolag=REPORTED_AUTOLAG)
    eg = engle_granger(ya, xa, autolag=REPORTED_AUTOLAG)
    hl = half_life(held)
    lr_y, lr_x = np.diff(np.log(np.abs(ya) + 1e-300)), np.diff(np.log(np.abs(xa) + 1e-300))
    if transform == "log":
        lr_y, lr_x = np.diff(ya), np.diff(xa)
    corr = (
        float(np.corrcoef(lr_y, lr_x)[0, 1]) if np.std(lr_y) > 0 and np.std(lr_x) > 0 else math.nan
    )
    ann = math.sqrt(bars_per_year(bar_seconds))
    import pandas as pd

    series = pd.DataFrame(
        {"y": ya, "x": xa, "beta": beta, "alpha": alpha, "spread": spread, "zscore": z},
        index=index if index is not None and len(index) == n else None,
    )
    return PairAnalysis(
        a=a,
        b=b,
        method=method,
        transform=transform,
        window=window,
        z_window=zw,
        hedge_ratio=hr,
        intercept=ic,
        in_sample=in_sample,
        adf_stat=adf_res.statistic,
        adf_pvalue=adf_res.pvalue,
        adf_verdict=adf_res.verdict,
        eg_pvalue=eg.pvalue,
        eg_verdict=eg.verdict,
        half_life=hl.half_life,
        correlation=corr,
        vol_a=float(np.std(lr_y, ddof=1) * ann),
        vol_b=float(np.std(lr_x, ddof=1) * ann),
        last_spread=float(clean[-1]),
        last_zscore=float(z[-1]) if np.isfinite(z[-1]) else math.nan,
        n=n,
        series=series,
        warmup=warm,
        adf_test=f"{adf_res.test} of {held_label}",
        eg_pvalue_reverse=eg.x_on_y.pvalue,
    )


__all__ = ["MIN_BARS", "PairAnalysis", "analyze_pair"]
