"""Incremental analytics of one watched pair: O(1) work per closed bar.

:class:`PairTracker` is the live twin of the batch pair report for a book of pairs. On each closed
bar it updates, from data up to that bar only:

- the hedge ratio (rolling OLS from running sums, or a Kalman step) and its drift;
- the spread ``y - beta x - alpha`` with ``beta``/``alpha`` fitted before the bar (the spread a
  trader holds), its rolling z-score, and the AR(1) half-life;
- the rolling correlation of log returns;
- the round-trip cost in z units and the cost-aware break-even band;
- CUSUMs of the spread's standardised AR(1) residuals (level shift, loss of reversion);
- the excursion of the spread from an anchored fit: the OLS of the last ``coint_window`` bars,
  refitted every ``coint_every`` bars while the pair holds and frozen otherwise, in that fit's
  residual standard deviations (amortised O(1));
- the mean-reversion signal (flat, long or short spread) and how long it has held;
- the health state from these and the rolling Engle-Granger p-value.

The Engle-Granger test is the one heavier step: the tracker says when it is due
(:meth:`PairTracker.coint_window`) and the caller runs :func:`eg_pvalue` off the event loop and
hands the result back (:meth:`PairTracker.set_coint_pvalue`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np

from statarb._typing import Float64Array
from statarb.analytics._window import WindowMoments
from statarb.analytics.breakdown import Cusum, Health, HealthMonitor, HealthThresholds
from statarb.analytics.signal_rule import next_side, signal_step_py
from statarb.errors import InputError

TrackerMethod = Literal["rolling-ols", "kalman"]
Signal = Literal["flat", "long", "short"]
_SIGNALS: tuple[Signal, Signal, Signal] = ("short", "flat", "long")


@dataclass(frozen=True)
class TrackerSettings:
    """How one pair of the book is analysed.

    Attributes
    ----------
    method
        Hedge ratio by rolling OLS over ``window`` bars, or a Kalman filter started from the OLS
        fit of the first ``window`` bars (observation variance from that fit's residuals).
    window
        Hedge-ratio, correlation and half-life window (bars).
    z_window
        Rolling z-score window (bars, ``ddof=1``, ending at the bar).
    entry, exit, stop
        Signal bands on z, as in the backtester: short spread above ``entry``, long below
        ``-entry``; a long exits once ``z >= -exit``, a short once ``z <= exit``; ``stop`` exits
        beyond ``stop``.
    time_stop
        Close a position after this many half-lives (the spread's half-life at the entry bar,
        :func:`statarb.analytics.ou.time_stop_bars`, as the backtester does); ``None``: no time
        stop.
    fee_bps, slippage_bps
        Per leg and side, for the break-even band.
    drift_bars
        Horizon of the hedge-ratio drift.
    coint_window, coint_every
        Bars of the rolling Engle-Granger test and how often it is due.
    memory
        Kalman memory in bars (``method="kalman"``): the state may wander by about the
        standard error of the starting OLS fit every ``memory`` bars (transition covariance
        ``P0 / memory``, with ``P0`` that fit's covariance), which keeps the filter
        scale-aware. Default: ``window``.
    thresholds
        Health levels of the indicators.
    """

    method: TrackerMethod = "rolling-ols"
    window: int = 120
    z_window: int = 60
    entry: float = 2.0
    exit: float = 0.0
    stop: float | None = None
    time_stop: float | None = None
    fee_bps: float = 4.0
    slippage_bps: float = 1.0
    drift_bars: int = 20
    coint_window: int = 480
    coint_every: int = 30
    memory: int | None = None
    thresholds: HealthThresholds = field(default_factory=HealthThresholds)

    def __post_init__(self) -> None:
        if self.method not in ("rolling-ols", "kalman"):
            raise InputError(f"method must be 'rolling-ols' or 'kalman', got {self.method!r}")
        for name in ("window", "z_window", "coint_window"):
            if getattr(self, name) < 10:
                raise InputError(f"{name} must be at least 10 bars, got {getattr(self, name)!r}")
        for name in ("drift_bars", "coint_every"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if not (math.isfinite(self.entry) and self.entry > 0):
            raise InputError(f"entry must be a positive z level, got {self.entry!r}")
        if not (math.isfinite(self.exit) and -self.entry < self.exit < self.entry):
            raise InputError(f"exit must lie strictly between -entry and entry, got {self.exit!r}")
        if self.stop is not None and not self.stop > self.entry:
            raise InputError(f"stop must exceed entry ({self.entry}), got {self.stop!r}")
        if self.time_stop is not None and not (
            math.isfinite(self.time_stop) and self.time_stop > 0
        ):
            raise InputError(f"time_stop must be a positive number of half-lives, got "
                             f"{self.time_stop!r}")  # fmt: skip
        if self.memory is not None and self.memory < 2:
            raise InputError(f"memory must be at least 2 bars, got {self.memory!r}")

    @property
    def warmup(self) -> int:
        """Bars before every indicator is defined."""
        return self.window + max(self.z_window, self.drift_bars) + 1

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-friendly)."""
        return asdict(self)


@dataclass(frozen=True)
class PairSnapshot:
    """The analytics of a pair after one closed bar (NaN where not yet defined)."""

    time: int
    bars: int
    hedge_ratio: float
    intercept: float
    drift: float
    spread: float
    zscore: float
    half_life: float
    half_life_ratio: float
    correlation: float
    cusum: float
    reversion: float
    excursion: float
    coint_pvalue: float
    coint_time: int | None
    rt_cost_z: float
    break_even_z: float
    signal: Signal
    signal_since: int | None
    signal_bars: int
    time_stop_bars: int | None
    health: Health
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields (NaN and infinities as None)."""
        out: dict[str, Any] = {}
        for k in _SNAPSHOT_FIELDS:
            v = getattr(self, k)
            if type(v) is float and not math.isfinite(v):
                v = None
            out[k] = list(v) if type(v) is tuple else v
        return out


_SNAPSHOT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PairSnapshot))


def next_signal(pos: int, z: float, *, entry: float, exit: float, stop: float | None = None) -> int:
    """The position after a bar with z-score ``z`` (1 long spread, -1 short, 0 flat).

    The rule of the backtester, :func:`statarb.analytics.signal_rule.signal_step` (without a
    time stop): enter short above ``entry``, long below ``-entry``; a long exits once
    ``z >= -exit`` (or ``z <= -stop``), a short once ``z <= exit`` (or ``z >= stop``); an exit
    and an entry never happen on the same bar.
    """
    return next_side(pos, z, entry=entry, exit=exit, stop=stop)[0]


def eg_pvalue(y: Float64Array, x: Float64Array) -> float:
    """Engle-Granger p-value of ``y`` on ``x`` (the direction fixed by leg order).

    MacKinnon's cointegration p-value of the ADF statistic of the OLS residual, as statsmodels
    ``coint(y, x, autolag="bic")`` (the lag rule of every reported p-value); NaN when the test
    cannot run (constant or collinear legs).
    """
    import warnings

    from statarb.analytics.stationarity import REPORTED_AUTOLAG, engle_granger
    from statarb.errors import StatarbError, StatarbWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatarbWarning)
            return float(engle_granger(y, x, autolag=REPORTED_AUTOLAG).pvalue)
    except (StatarbError, ValueError, np.linalg.LinAlgError):
        return math.nan


class _Hedge:
    """Hedge ratio from past bars: rolling OLS from running sums, or a Kalman step."""

    def __init__(self, s: TrackerSettings) -> None:
        self.method = s.method
        self.memory = s.memory or s.window
        self._q = (0.0, 0.0, 0.0)
        self.ols = WindowMoments(s.window)
        self.beta = self.alpha = math.nan
        self._kf: tuple[float, ...] | None = None  # beta, alpha, p00, p01, p11, q-scale, r

    def update(self, y: float, x: float) -> None:
        """Absorb the bar: afterwards ``beta``/``alpha`` are the fit through this bar."""
        if self._kf is not None:
            self._kalman(y, x)
            return
        self.ols.push(x, y)
        if not self.ols.full:
            return
        self.beta, self.alpha = self.ols.slope(), self.ols.intercept()
        if self.method == "kalman" and math.isfinite(self.beta):
            r = self.ols.residual_var()
            vx = self.ols.var_u(0) * self.ols.window
            p_b = r / vx if vx > 0 else 1.0
            p_a = r / self.ols.window + p_b * self.ols.mean_u**2
            p01 = -p_b * self.ols.mean_u
            self._kf = (self.beta, self.alpha, p_b, p01, p_a, r)
            self._q = (p_b / self.memory, p01 / self.memory, p_a / self.memory)

    def _kalman(self, y: float, x: float) -> None:
        assert self._kf is not None
        b, a, p00, p01, p11, r = self._kf
        p00, p01, p11 = p00 + self._q[0], p01 + self._q[1], p11 + self._q[2]
        e = y - (b * x + a)
        ph0, ph1 = p00 * x + p01, p01 * x + p11
        s = x * ph0 + ph1 + r
        k0, k1 = ph0 / s, ph1 / s
        self._kf = (b + k0 * e, a + k1 * e, p00 - k0 * ph0, p01 - k0 * ph1, p11 - k1 * ph1, r)
        self.beta, self.alpha = self._kf[0], self._kf[1]


class PairTracker:
    """Live analytics of one pair, updated in O(1) per closed bar (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = 100 + np.cumsum(rng.normal(0, 1, 400))
    >>> y = 1.5 * x + rng.normal(0, 1, 400)
    >>> t = PairTracker(TrackerSettings(window=60, z_window=30, coint_window=120))
    >>> snap = [t.update(i, yi, xi) for i, (yi, xi) in enumerate(zip(y, x))][-1]
    >>> round(snap.hedge_ratio, 1)
    1.5
    """

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = s = settings or TrackerSettings()
        self._hedge = _Hedge(s)
        self._z = WindowMoments(s.z_window)
        self._ar = WindowMoments(s.window)
        self._ret = WindowMoments(s.window)
        self._betas: deque[float] = deque(maxlen=s.drift_bars + 1)
        self._drifts = WindowMoments(4 * s.window)
        self._closes: deque[tuple[float, float]] = deque(maxlen=s.coint_window)
        self._cusum = Cusum()
        self._health = HealthMonitor(s.thresholds)
        self._log_hl = math.nan
        self._prev: tuple[float, float] | None = None
        self._prev_spread = math.nan
        self.bars = 0
        self._pos, self._pos_bars = 0, 0
        self._pos_since: int | None = None
        self._stop_bars: int | None = None  # time stop of the open position, in bars
        self.coint_pvalue = math.nan
        self.coint_time: int | None = None
        self._since_coint = 0
        self._anchor: tuple[float, ...] | None = None  # the anchored OLS fit
        self._since_anchor = 0
        self.last: PairSnapshot | None = None

    # -- the heavier test, run by the caller ------------------------------------------------

    def coint_window(self) -> tuple[Float64Array, Float64Array] | None:
        """``(y, x)`` of the last ``coint_window`` bars when a test is due, else None."""
        s = self.settings
        if len(self._closes) < s.coint_window or self._since_coint < s.coint_every:
            return None
        self._since_coint = 0
        arr = np.asarray(self._closes, dtype=np.float64)
        return arr[:, 0].copy(), arr[:, 1].copy()

    def set_coint_pvalue(self, pvalue: float, time: int) -> None:
        """Record the Engle-Granger p-value of the window that ended at ``time``."""
        self.coint_pvalue, self.coint_time = float(pvalue), int(time)

    # -- one closed bar ---------------------------------------------------------------------

    def update(self, time: int, y: float, x: float) -> PairSnapshot:
        """Absorb the closes of one bar; return the pair's analytics after it."""
        y, x = float(y), float(x)
        if not (math.isfinite(y) and math.isfinite(x) and y > 0 and x > 0):
            raise InputError(f"pair closes must be positive and finite, got y={y!r}, x={x!r}")
        s = self.settings
        self.bars += 1
        self._since_coint += 1
        self._closes.append((y, x))
        beta, alpha = self._hedge.beta, self._hedge.alpha  # fitted before this bar
        if self._prev is not None:
            self._ret.push(math.log(x / self._prev[1]), math.log(y / self._prev[0]))
        self._prev = (y, x)
        spread = y - beta * x - alpha
        z = g = side = math.nan
        if math.isfinite(spread):
            self._z.push(spread, 0.0)
            sd = math.sqrt(self._z.var_u(1)) if len(self._z) == s.z_window else math.nan
            z = (spread - self._z.mean_u) / sd if sd > 0 else math.nan
            g, side = self._residual(spread)
        self._hedge.update(y, x)
        drift = self._drift(beta)
        hl = self._half_life()
        hl_ratio = self._hl_ratio(hl)
        cusum = self._cusum.update(g, side) if math.isfinite(g) else self._cusum.value
        corr = self._ret.correlation() if self._ret.full else math.nan
        rt = self._rt_cost_z(y, x, beta)
        excursion = self._excursion(y, x)
        self._signal(time, z, hl)
        ready = self.bars >= s.warmup
        health: Health = "warming"
        if ready:
            health = self._health.update(
                coint_pvalue=self.coint_pvalue,
                cusum=cusum,
                reversion=self._cusum.reversion,
                excursion=excursion,
                drift=drift,
                half_life_ratio=hl_ratio,
                correlation=corr,
            )
        self.last = PairSnapshot(
            time=int(time),
            bars=self.bars,
            hedge_ratio=beta,
            intercept=alpha,
            drift=drift,
            spread=spread,
            zscore=z,
            half_life=hl,
            half_life_ratio=hl_ratio,
            correlation=corr,
            cusum=cusum,
            reversion=self._cusum.reversion,
            excursion=excursion,
            coint_pvalue=self.coint_pvalue,
            coint_time=self.coint_time,
            rt_cost_z=rt,
            break_even_z=s.exit + rt if math.isfinite(rt) else math.nan,
            signal=_SIGNALS[self._pos + 1],
            signal_since=self._pos_since,
            signal_bars=self._pos_bars,
            time_stop_bars=self._stop_bars,
            health=health,
            reasons=self._health.reasons if ready else (),
        )
        return self.last

    def _residual(self, spread: float) -> tuple[float, float]:
        """Standardised AR(1) residual of this bar's spread change, from the past fit."""
        prev, self._prev_spread = self._prev_spread, spread
        if not math.isfinite(prev):
            return math.nan, math.nan
        g = side = math.nan
        if self._ar.full:
            b, a = self._ar.slope(), self._ar.intercept()
            sd = math.sqrt(self._ar.residual_var())
            if math.isfinite(b) and sd > 0:
                g = (spread - prev - a - b * prev) / sd
                mean = -a / b if b < 0 else self._z.mean_u
                side = 1.0 if prev > mean else -1.0
        self._ar.push(prev, spread - prev)
        return g, side

    def _excursion(self, y: float, x: float) -> float:
        """This bar against the anchored fit; the anchor is refitted afterwards when due.

        Scaled by the prediction standard deviation of the anchored OLS at this ``x``, whose
        slope variance is widened by ``(1 + phi) / (1 - phi)`` for residuals with lag-1
        autocorrelation ``phi`` (an AR(1) spread makes OLS standard errors too small).
        """
        out = math.nan
        if self._anchor is not None:
            b, a, sd, n, xbar, sxx, widen = self._anchor
            pred = sd * math.sqrt(1.0 + 1.0 / n + widen * (x - xbar) ** 2 / sxx)
            out = (y - b * x - a) / pred
        self._since_anchor += 1
        s = self.settings
        due = len(self._closes) == s.coint_window and self._since_anchor >= s.coint_every
        if due and self._health.level == 0:
            self._refit_anchor()
        return out

    def _refit_anchor(self) -> None:
        arr = np.asarray(self._closes, dtype=np.float64)
        ya, xa = arr[:, 0], arr[:, 1]
        xbar = float(xa.mean())
        dx = xa - xbar
        sxx = float(dx @ dx)
        if not sxx > 0:
            return
        b = float(dx @ (ya - ya.mean())) / sxx
        a = float(ya.mean() - b * xbar)
        r = ya - b * xa - a
        rr = float(r @ r)
        if not rr > 0:
            return
        phi = min(max(float(r[1:] @ r[:-1]) / rr, 0.0), 0.999)
        sd = math.sqrt(rr / (len(r) - 2))
        self._anchor = (b, a, sd, len(r), xbar, sxx, (1 + phi) / (1 - phi))
        self._since_anchor = 0

    def _half_life(self) -> float:
        if not self._ar.full:
            return math.nan
        b = self._ar.slope()
        if not math.isfinite(b):
            return math.nan
        return -math.log(2.0) / math.log1p(b) if -1.0 < b < 0.0 else math.inf

    def _hl_ratio(self, hl: float) -> float:
        """Half-life over its typical past value (an EW mean of log half-lives)."""
        if math.isnan(hl):
            return math.nan
        h = min(hl, 100.0 * self.settings.window)  # a non-reverting window counts as very long
        ratio = h / math.exp(self._log_hl) if math.isfinite(self._log_hl) else math.nan
        w = 1.0 / (4 * self.settings.window)
        lh = math.log(max(h, 1e-9))
        self._log_hl = lh if math.isnan(self._log_hl) else (1 - w) * self._log_hl + w * lh
        return ratio

    def _drift(self, beta: float) -> float:
        """Change of the hedge ratio over ``drift_bars``, in sigmas of its past changes."""
        if not math.isfinite(beta):
            return math.nan
        self._betas.append(beta)
        if len(self._betas) <= self.settings.drift_bars:
            return math.nan
        d = beta - self._betas[0]
        out = math.nan
        if len(self._drifts) >= self.settings.window:
            rms = math.sqrt(self._drifts.var_u(0) + self._drifts.mean_u**2)
            out = d / rms if rms > 0 else math.nan
        self._drifts.push(d, 0.0)
        return out

    def _rt_cost_z(self, y: float, x: float, beta: float) -> float:
        """Round-trip cost of one unit of spread (both legs, in and out), in z units."""
        if len(self._z) < self.settings.z_window or not math.isfinite(beta):
            return math.nan
        sd = math.sqrt(self._z.var_u(1))
        rate = 2e-4 * (self.settings.fee_bps + self.settings.slippage_bps)
        return rate * (y + abs(beta) * x) / sd if sd > 0 else math.nan

    def _signal(self, time: int, z: float, half_life: float) -> None:
        from statarb.analytics.ou import time_stop_bars

        s = self.settings
        held = self._pos_bars + 1
        pos, _ = signal_step_py(
            self._pos, z, held, self._stop_bars or 0, s.entry, s.exit, s.stop or 0.0, 0
        )  # the backtester's rule, time stop included
        if pos != self._pos or self._pos_since is None:
            if pos != 0 and s.time_stop is not None:
                self._stop_bars = time_stop_bars(half_life, s.time_stop)
            elif pos == 0:
                self._stop_bars = None
            self._pos, self._pos_since, self._pos_bars = pos, int(time), 0
        else:
            self._pos_bars = held


def track(
    y: Any,
    x: Any,
    times: Any | None = None,
    *,
    settings: TrackerSettings | None = None,
    coint: bool = True,
) -> list[PairSnapshot]:
    """Run a :class:`PairTracker` over aligned closes (the batch form, for research and tests).

    With ``coint`` the rolling Engle-Granger test runs whenever it is due, as the engine runs it.
    """
    ya = np.asarray(y, dtype=np.float64)
    xa = np.asarray(x, dtype=np.float64)
    if ya.shape != xa.shape or ya.ndim != 1:
        raise InputError(f"y and x must be aligned 1-d series, got {ya.shape} and {xa.shape}")
    ts = np.arange(len(ya)) if times is None else np.asarray(times, dtype=np.int64)
    tr = PairTracker(settings)
    out = []
    for t, yi, xi in zip(ts.tolist(), ya.tolist(), xa.tolist(), strict=True):
        out.append(tr.update(t, yi, xi))
        if coint:
            win = tr.coint_window()  # ends at this bar: its p-value serves the next bars
            if win is not None:
                tr.set_coint_pvalue(eg_pvalue(*win), t)
    return out


__all__ = [
    "PairSnapshot",
    "PairTracker",
    "Signal",
    "TrackerMethod",
    "TrackerSettings",
    "eg_pvalue",
    "next_signal",
    "track",
]
