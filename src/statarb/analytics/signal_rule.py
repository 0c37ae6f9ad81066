"""The one signal rule of a mean-reversion spread position (compiled; callable from Python).

:func:`signal_step` decides, at a bar close, what a position of ``side`` does next from the bar's
z-score. The backtester's bar loop (:mod:`statarb.backtest._kernel`), the book's live signal
(:class:`statarb.analytics.tracker.PairTracker`) and the paper trader
(:mod:`statarb.paper`) all call it, so the three cannot disagree on a band, a stop or a time stop.

The rule:

- a z-score that is not finite decides nothing;
- flat: short the spread above ``entry``, long below ``-entry``;
- long: exit once ``z >= -exit`` (reason :data:`R_SIGNAL`), else once ``z <= -stop``
  (:data:`R_STOP`); short: once ``z <= exit``, else once ``z >= stop``;
- still held: exit after ``max_hold`` bars (:data:`R_MAX_HOLD`), else after ``limit`` bars, the
  time stop fixed at the entry's signal bar (:data:`R_TIME_STOP`);
- an exit and an entry never happen at the same close (the exit fills first, at the next bar).

``stop``, ``max_hold`` and ``limit`` of 0 (or less) mean none. ``held`` counts the closes since
the position was filled, the fill bar's close included.
"""

from __future__ import annotations

import math

from numba import njit

#: exit reasons (the trade table's ``reason`` codes; :data:`R_NONE` when nothing is decided)
R_NONE, R_SIGNAL, R_STOP, R_MAX_HOLD, R_END, R_RUIN, R_TIME_STOP = -1, 0, 1, 2, 3, 4, 5
REASONS: dict[int, str] = {
    R_SIGNAL: "signal",
    R_STOP: "stop",
    R_MAX_HOLD: "max_hold",
    R_END: "end",
    R_RUIN: "ruin",
    R_TIME_STOP: "time_stop",
}


@njit(cache=True)
def signal_step(side, z, held, limit, entry, exit_, stop, max_hold):  # pragma: no cover - compiled
    """The side after this close (1 long spread, -1 short, 0 flat) and the exit reason.

    Parameters
    ----------
    side
        The position held at this close (1, -1 or 0).
    z
        The bar's z-score.
    held
        Closes since the fill (including the fill bar's).
    limit
        Time stop of the position in bars (0: none).
    entry, exit_, stop
        The bands (``stop <= 0``: none).
    max_hold
        Maximum holding in bars (0: none).

    Returns
    -------
    tuple of int
        ``(side, reason)``: the new side and, for an exit, its reason (:data:`R_NONE` otherwise).
    """
    if not math.isfinite(z):
        return side, R_NONE
    if side == 0:
        if z > entry:
            return -1, R_NONE
        if z < -entry:
            return 1, R_NONE
        return 0, R_NONE
    if side == 1:
        if z >= -exit_:
            return 0, R_SIGNAL
        if stop > 0.0 and z <= -stop:
            return 0, R_STOP
    else:
        if z <= exit_:
            return 0, R_SIGNAL
        if stop > 0.0 and z >= stop:
            return 0, R_STOP
    if max_hold > 0 and held >= max_hold:
        return 0, R_MAX_HOLD
    if limit > 0 and held >= limit:
        return 0, R_TIME_STOP
    return side, R_NONE


#: the same function, run by the interpreter: for one call at a time from Python (the live paths)
#: it costs a fraction of the compiled function's dispatch; the property tests run both
signal_step_py = signal_step.py_func


def next_side(
    side: int,
    z: float,
    *,
    entry: float,
    exit: float,
    stop: float | None = None,
    held: int = 0,
    limit: int | None = None,
    max_hold: int | None = None,
) -> tuple[int, str | None]:
    """:func:`signal_step` with Python types: ``(side, reason)``, reason None unless an exit.

    Examples
    --------
    >>> next_side(0, 2.5, entry=2.0, exit=0.0)
    (-1, None)
    >>> next_side(-1, 4.1, entry=2.0, exit=0.0, stop=4.0)
    (0, 'stop')
    """
    new, reason = signal_step_py(
        int(side), float(z), int(held), int(limit or 0), float(entry), float(exit),
        float(stop or 0.0), int(max_hold or 0),
    )  # fmt: skip
    return int(new), REASONS.get(int(reason))


__all__ = [
    "REASONS",
    "R_END",
    "R_MAX_HOLD",
    "R_NONE",
    "R_RUIN",
    "R_SIGNAL",
    "R_STOP",
    "R_TIME_STOP",
    "next_side",
    "signal_step",
    "signal_step_py",
]
