"""Funding of perpetual futures, reconciled against the funding times of the backtest period.

Binance USD-M perpetuals settle funding every 8 hours (00:00, 08:00, 16:00 UTC; some symbols
every 4 h or 1 h): a position pays ``position notional x funding rate`` at each funding time,
the notional at the mark price. With a positive rate longs pay shorts; with a negative rate
shorts pay longs. The backtests use the bar's close as the mark price and charge the position
held during the bar that contains the funding time.

A backtest that charges funding must know which funding events it had: :func:`funding_per_bar`
lists the funding times the period should contain, matches the recorded events to them, and
reports how many were found and missing. More than 1% missing flags the run; missing events are
never charged as a silent zero without that flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from statarb._typing import Float64Array, Int64Array
from statarb.errors import InputError

HOUR_US = 3_600_000_000
#: the share of missing funding events above which a backtest is flagged
MAX_MISSING_SHARE = 0.01


def funding_payment(qty: Any, mark_price: Any, rate: Any) -> Any:
    """Cash received by a position at one funding time: ``-qty * mark_price * rate``.

    ``qty`` > 0 is long. A long pays (negative cash) when the rate is positive, a short
    receives; with a negative rate the roles swap.
    """
    return -np.asarray(qty, dtype=np.float64) * np.asarray(mark_price) * np.asarray(rate)


@dataclass(frozen=True)
class FundingSchedule:
    """One symbol's funding rates on the bars of a backtest, with the reconciliation.

    ``rates[t]`` is the rate of the funding time inside bar ``t`` (0 where there is none, and
    0 where the event is missing: see ``missing``). ``expected`` funding times fall inside the
    period; ``found`` of them have an event; ``missing_times`` lists the others (epoch µs).
    """

    symbol: str
    rates: Float64Array = field(repr=False)
    expected: int
    found: int
    missing_times: Int64Array = field(repr=False)
    unmatched: int

    @property
    def missing(self) -> int:
        """Expected funding times without an event."""
        return len(self.missing_times)

    @property
    def missing_share(self) -> float:
        """``missing / expected`` (0 when none is expected)."""
        return self.missing / self.expected if self.expected else 0.0

    @property
    def flagged(self) -> bool:
        """More than 1% of the funding events are missing."""
        return self.missing_share > MAX_MISSING_SHARE

    def to_dict(self) -> dict[str, Any]:
        """Counts, share, flag and the first missing times (epoch µs)."""
        return {
            "symbol": self.symbol,
            "expected": self.expected,
            "found": self.found,
            "missing": self.missing,
            "missing_share": self.missing_share,
            "flagged": self.flagged,
            "unmatched_events": self.unmatched,
            "first_missing": [int(t) for t in self.missing_times[:10]],
        }

    def summary(self) -> str:
        """One line of text."""
        flag = " FLAGGED: funding is incomplete" if self.flagged else ""
        return (
            f"{self.symbol}: {self.found}/{self.expected} funding events found, "
            f"{self.missing} missing ({self.missing_share:.1%}){flag}"
        )


def funding_times(start_us: int, end_us: int, *, interval_hours: float = 8.0) -> Int64Array:
    """Funding times in ``[start_us, end_us)``, on the UTC epoch grid of ``interval_hours``."""
    step = round(interval_hours * HOUR_US)
    if step <= 0:
        raise InputError(f"interval_hours must be positive, got {interval_hours!r}")
    first = -(-start_us // step) * step
    return np.arange(first, end_us, step, dtype=np.int64)


def funding_per_bar(
    bar_times: Any,
    event_times: Any,
    event_rates: Any,
    *,
    bar_us: int,
    symbol: str = "",
    interval_hours: float = 8.0,
    tolerance_us: int = 60_000_000,
) -> FundingSchedule:
    """Put recorded funding events on the bars and reconcile them with the expected times.

    Parameters
    ----------
    bar_times
        Bar open times, epoch µs, increasing (one clock).
    event_times, event_rates
        Recorded funding events (Binance ``fundingTime`` in µs and ``fundingRate``).
    bar_us
        Bar length in µs; the period is ``[bar_times[0], bar_times[-1] + bar_us)``.
    interval_hours
        Funding interval of the symbol (8 for most Binance USD-M perpetuals).
    tolerance_us
        An event within this distance of an expected time settles it (Binance stamps a few ms
        late).
    """
    bt = np.asarray(bar_times, dtype=np.int64)
    et = np.asarray(event_times, dtype=np.int64)
    er = np.asarray(event_rates, dtype=np.float64)
    if bt.ndim != 1 or len(bt) == 0 or (np.diff(bt) <= 0).any():
        raise InputError("bar_times must be a non-empty increasing 1-D array of epoch µs")
    if et.shape != er.shape or et.ndim != 1:
        raise InputError(f"event_times and event_rates differ in shape: {et.shape} vs {er.shape}")
    bad = np.flatnonzero(~np.isfinite(er))
    if len(bad):
        raise InputError(
            f"funding rate of {symbol or 'the symbol'} is not finite at event {bad[0]}"
        )
    if bar_us <= 0:
        raise InputError(f"bar_us must be positive, got {bar_us!r}")
    due = funding_times(int(bt[0]), int(bt[-1]) + bar_us, interval_hours=interval_hours)
    rates = np.zeros(len(bt))
    order = np.argsort(et, kind="stable")
    et, er = et[order], er[order]
    # nearest recorded event of each due time
    j = np.clip(np.searchsorted(et, due), 1, max(len(et) - 1, 1)) if len(et) else np.zeros(0)
    matched = np.zeros(len(due), dtype=bool)
    used = np.zeros(len(et), dtype=bool)
    for i, t in enumerate(due):
        if not len(et):
            break
        cands = [k for k in (int(j[i]) - 1, int(j[i])) if 0 <= k < len(et)]
        k = min(cands, key=lambda c: abs(int(et[c]) - int(t)))
        if abs(int(et[k]) - int(t)) <= tolerance_us and not used[k]:
            matched[i] = used[k] = True
            bar = int(np.searchsorted(bt, t, side="right")) - 1
            if bar >= 0 and t < bt[bar] + bar_us:
                rates[bar] += er[k]
            else:  # the funding time falls in a gap between bars: no position can be marked
                matched[i] = False
    in_period = (et >= bt[0]) & (et < bt[-1] + bar_us)
    return FundingSchedule(
        symbol,
        rates,
        len(due),
        int(matched.sum()),
        due[~matched],
        int((in_period & ~used).sum()),
    )


def funding_matrix(
    schedules: Mapping[str, FundingSchedule], symbols: list[str]
) -> tuple[Float64Array, dict[str, Any]]:
    """(symbols, bars) rate matrix for the book and its reconciliation report.

    Every symbol must have a schedule: a symbol whose funding is unknown cannot be charged 0.
    """
    missing = [s for s in symbols if s not in schedules]
    if missing:
        raise InputError(f"no funding schedule for {missing}; give one per traded symbol")
    mat = np.vstack([schedules[s].rates for s in symbols])
    per = {s: schedules[s].to_dict() for s in symbols}
    expected = sum(schedules[s].expected for s in symbols)
    lost = sum(schedules[s].missing for s in symbols)
    share = lost / expected if expected else 0.0
    report = {
        "expected": expected,
        "found": expected - lost,
        "missing": lost,
        "missing_share": share,
        "flagged": any(schedules[s].flagged for s in symbols) or share > MAX_MISSING_SHARE,
        "symbols": per,
    }
    return mat, report


__all__ = [
    "MAX_MISSING_SHARE",
    "FundingSchedule",
    "funding_matrix",
    "funding_payment",
    "funding_per_bar",
    "funding_times",
]
