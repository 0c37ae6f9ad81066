"""A paper strategy's settings (per pair of the book) and the exchange's order rules."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from statarb.errors import InputError

TimeoutAction = Literal["retry", "unwind"]
#: the most a strategy may trade per entry (quote currency), a guard against a typo
MAX_NOTIONAL = 1e9


@dataclass(frozen=True)
class PaperSettings:
    """How a pair of the book is paper-traded.

    Attributes
    ----------
    entry, exit, stop
        Bands on the book's z-score (the backtester's meaning; ``stop`` None: none).
    time_stop
        Close after this many half-lives of the spread at the signal bar (None: none).
    max_hold
        Close after this many bars (None: none).
    notional
        Gross size of an entry (both legs), quote currency, split as the backtester does:
        ``q_y = notional / (y + |beta| x)``, ``q_x = -beta q_y``.
    fee_bps, slippage_bps
        Per leg and fill, in basis points of the fill's notional (slippage moves the price).
    lot_y, lot_x, min_notional
        Lot steps of the legs and the smallest leg notional (``exchangeInfo``'s
        ``MARKET_LOT_SIZE`` and ``MIN_NOTIONAL``; 0: none). An entry below it is skipped.
    leg_timeout
        Seconds (exchange time) an order may wait for its fill once the other leg has filled.
    on_timeout
        ``retry``: send the late leg again (up to ``max_retries`` times, then unwind);
        ``unwind``: close the filled leg at once. Exits are always retried.
    max_retries
        Retries of a late entry leg before it is unwound.
    half_spread_bps
        Half-spread assumed for a trade-price fill before any quote of the symbol was seen.
    """

    entry: float = 2.0
    exit: float = 0.0
    stop: float | None = None
    time_stop: float | None = None
    max_hold: int | None = None
    notional: float = 1000.0
    fee_bps: float = 4.0
    slippage_bps: float = 1.0
    lot_y: float = 0.0
    lot_x: float = 0.0
    min_notional: float = 0.0
    leg_timeout: float = 5.0
    on_timeout: TimeoutAction = "retry"
    max_retries: int = 3
    half_spread_bps: float = 0.5

    def __post_init__(self) -> None:
        _positive(self.entry, "entry")
        if not (math.isfinite(self.exit) and -self.entry < self.exit < self.entry):
            raise InputError(f"exit must lie strictly between -entry and entry, got {self.exit!r}")
        if self.stop is not None and not (math.isfinite(self.stop) and self.stop > self.entry):
            raise InputError(f"stop must exceed entry ({self.entry}), got {self.stop!r}")
        if self.time_stop is not None:
            _positive(self.time_stop, "time_stop")
        if self.max_hold is not None and not (
            isinstance(self.max_hold, int) and self.max_hold >= 1
        ):
            raise InputError(f"max_hold must be a whole number of bars >= 1, got {self.max_hold!r}")
        _positive(self.notional, "notional")
        if self.notional > MAX_NOTIONAL:
            raise InputError(f"notional must be at most {MAX_NOTIONAL:g}, got {self.notional!r}")
        for name in ("fee_bps", "slippage_bps", "half_spread_bps"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0 <= v <= 1000):
                raise InputError(f"{name} must be between 0 and 1000 bps, got {v!r}")
        for name in ("lot_y", "lot_x", "min_notional"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise InputError(f"{name} must be a non-negative number, got {v!r}")
        if not (math.isfinite(self.leg_timeout) and 0 < self.leg_timeout <= 3600):
            raise InputError(f"leg_timeout must be in (0, 3600] seconds, got {self.leg_timeout!r}")
        if self.on_timeout not in ("retry", "unwind"):
            raise InputError(f"on_timeout must be 'retry' or 'unwind', got {self.on_timeout!r}")
        if not (isinstance(self.max_retries, int) and 0 <= self.max_retries <= 100):
            raise InputError(f"max_retries must be a whole number in [0, 100], got "
                             f"{self.max_retries!r}")  # fmt: skip

    @property
    def timeout_us(self) -> int:
        """:attr:`leg_timeout` in µs."""
        return round(self.leg_timeout * 1_000_000)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-friendly)."""
        return asdict(self)


PAPER_SETTINGS: tuple[str, ...] = tuple(f.name for f in fields(PaperSettings))
_INTS = frozenset({"max_hold", "max_retries"})


def paper_settings(data: dict[str, Any]) -> PaperSettings:
    """Validated settings from a JSON object (unknown keys refused by name)."""
    if not isinstance(data, dict):
        raise InputError(f"paper settings must be an object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(PAPER_SETTINGS))
    if unknown:
        raise InputError(f"unknown paper settings {unknown}; known: {list(PAPER_SETTINGS)}")
    clean: dict[str, Any] = {}
    for k, v in data.items():
        if k == "on_timeout" or v is None:
            clean[k] = v
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise InputError(f"paper setting {k} must be a number, got {v!r}")
        if k in _INTS:
            if v != int(v):
                raise InputError(f"paper setting {k} must be a whole number, got {v!r}")
            v = int(v)
        else:
            v = float(v)
        clean[k] = v
    return PaperSettings(**clean)


@dataclass(frozen=True)
class SymbolRules:
    """A symbol's market-order rules from ``exchangeInfo`` (0: none)."""

    step: float = 0.0
    min_notional: float = 0.0


def symbol_rules(info: dict[str, Any]) -> dict[str, SymbolRules]:
    """Lot step and minimum notional per symbol from a ``/fapi/v1/exchangeInfo`` answer.

    The step is ``MARKET_LOT_SIZE`` (``LOT_SIZE`` when absent); the minimum notional
    ``MIN_NOTIONAL.notional``.
    """
    out: dict[str, SymbolRules] = {}
    for s in info.get("symbols", []) if isinstance(info, dict) else []:
        filters = {f.get("filterType"): f for f in s.get("filters", []) if isinstance(f, dict)}
        lot = filters.get("MARKET_LOT_SIZE") or filters.get("LOT_SIZE") or {}
        mn = filters.get("MIN_NOTIONAL") or {}
        try:
            out[str(s["symbol"])] = SymbolRules(
                float(lot.get("stepSize", 0) or 0), float(mn.get("notional", 0) or 0)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"exchangeInfo symbol entry is malformed: {exc}") from None
    return out


def _positive(v: float, name: str) -> None:
    if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
        raise InputError(f"{name} must be a positive number, got {v!r}")


__all__ = [
    "MAX_NOTIONAL",
    "PAPER_SETTINGS",
    "PaperSettings",
    "SymbolRules",
    "TimeoutAction",
    "paper_settings",
    "symbol_rules",
]
