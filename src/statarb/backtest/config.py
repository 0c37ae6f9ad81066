"""Backtest parameters (validated, frozen)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from statarb.analytics.kalman import DEFAULT_DELTA
from statarb.errors import InputError
from statarb.model import Timeframe

HedgeMode = Literal["kalman", "rolling-ols", "expanding", "static"]
HEDGE_MODES: tuple[str, ...] = ("kalman", "rolling-ols", "expanding", "static")
Sizing = Literal["fixed", "equity"]
SIZINGS: tuple[str, ...] = ("fixed", "equity")


@dataclass(frozen=True)
class BacktestConfig:
    """Mean-reversion rules, hedge-ratio estimator, sizing and costs.

    Attributes
    ----------
    entry, exit
        Enter short spread when ``z > entry``, long when ``z < -entry``. A long exits once
        ``z >= -exit``, a short once ``z <= exit`` (``exit=0``: when z is back to its mean).
    stop
        Stop-loss: a long exits when ``z <= -stop``, a short when ``z >= stop``.
    max_hold
        Exit after this many bars in a position.
    time_stop, half_life_window
        Exit after ``time_stop`` half-lives, the half-life of the spread measured over the
        ``half_life_window`` bars ending at the signal bar and fixed at entry.
    window
        Rolling z-score window (bars ending at the signal bar).
    method, hedge_window
        Hedge ratio from data before each bar: rolling OLS over ``hedge_window`` bars (default
        ``window``) shifted one bar, expanding OLS shifted one bar, or the Kalman prior.
        ``"static"`` fits the whole sample: allowed for study, flagged in-sample.
    delta, obs_var
        Kalman transition parameter and observation variance. ``"auto"`` (the default, as in
        :func:`~statarb.analytics.kalman.kalman_hedge`): scale-aware, from a warm-up of
        ``hedge_window`` bars (default :data:`~statarb.analytics.kalman.DEFAULT_WARMUP`) during
        which the backtest does not trade.
    capital
        Starting equity; also the gross notional of both legs of each trade times ``leverage``.
    sizing
        ``"fixed"``: every trade is ``capital * leverage`` gross. ``"equity"``: the current
        equity times ``leverage`` (compounding). Either way the run stops trading at ruin
        (equity at or below zero).
    fee_bps, slippage_bps
        Taker fee and slippage per leg, in basis points of traded notional.
    bar_seconds
        Bar length, for annualisation (365-day, 24 h crypto year).
    """

    entry: float = 2.0
    exit: float = 0.0
    stop: float | None = None
    max_hold: int | None = None
    time_stop: float | None = None
    half_life_window: int = 500
    window: int = 60
    method: HedgeMode = "rolling-ols"
    hedge_window: int | None = None
    delta: float = DEFAULT_DELTA
    obs_var: float | Literal["auto"] = "auto"
    capital: float = 100_000.0
    leverage: float = 1.0
    sizing: Sizing = "fixed"
    fee_bps: float = 4.0
    slippage_bps: float = 1.0
    bar_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.entry) and self.entry > 0):
            raise InputError(f"entry must be a positive z level, got {self.entry!r}")
        if not (math.isfinite(self.exit) and -self.entry < self.exit < self.entry):
            raise InputError(f"exit must lie strictly between -entry and entry, got {self.exit!r}")
        if self.stop is not None and not self.stop > self.entry:
            raise InputError(f"stop must exceed entry ({self.entry}), got {self.stop!r}")
        if self.max_hold is not None and self.max_hold < 1:
            raise InputError(f"max_hold must be at least 1 bar, got {self.max_hold!r}")
        if self.time_stop is not None and not (
            math.isfinite(self.time_stop) and self.time_stop > 0
        ):
            raise InputError(
                f"time_stop must be a positive multiple of the half-life, got {self.time_stop!r}"
            )
        if self.half_life_window < 10:
            raise InputError(f"half_life_window must be at least 10, got {self.half_life_window!r}")
        if self.window < 2:
            raise InputError(f"window must be at least 2 bars, got {self.window!r}")
        if self.hedge_window is not None and self.hedge_window < 3:
            raise InputError(f"hedge_window must be at least 3 bars, got {self.hedge_window!r}")
        if self.sizing not in SIZINGS:
            raise InputError(f"sizing must be one of {', '.join(SIZINGS)}, got {self.sizing!r}")
        if self.method not in HEDGE_MODES:
            raise InputError(f"method must be one of {', '.join(HEDGE_MODES)}, got {self.method!r}")
        for name in ("capital", "leverage", "bar_seconds"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be positive, got {getattr(self, name)!r}")
        for name in ("fee_bps", "slippage_bps"):
            if not getattr(self, name) >= 0:
                raise InputError(f"{name} must be >= 0, got {getattr(self, name)!r}")

    @classmethod
    def for_timeframe(cls, timeframe: str, **params: Any) -> BacktestConfig:
        """A config whose ``bar_seconds`` (and so its annualisation) is that of ``timeframe``.

        >>> BacktestConfig.for_timeframe("15m").bar_seconds
        900.0
        """
        return cls(**{**params, "bar_seconds": Timeframe.parse(timeframe).seconds})

    @property
    def notional(self) -> float:
        """Gross notional of both legs of one trade."""
        return self.capital * self.leverage

    def with_(self, **changes: Any) -> BacktestConfig:
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return asdict(self)


__all__ = ["HEDGE_MODES", "SIZINGS", "BacktestConfig", "HedgeMode", "Sizing"]
