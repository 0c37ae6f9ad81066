"""Paper orders and fills, the fill rule on the live tape, and lot rounding.

A market order sent at time ``T`` (a bar end, exchange time) fills at the first quote of its
symbol at or after ``T``: the ask for a buy, the bid for a sell, moved against the order by the
slippage, and pays the fee on the fill's notional. A symbol of which no quote was ever seen fills
at the first trade at or after ``T``, with half the last known spread (else the strategy's
``half_spread_bps``) added against the order; such a fill is flagged ``assumed_spread``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

Leg = Literal["y", "x"]
Purpose = Literal["open", "close", "unwind"]
OrderStatus = Literal["working", "filled", "cancelled"]
FillSource = Literal["quote", "trade"]
#: quotes and trades a symbol's tape keeps (a fill looks back at most this far)
TAPE_DEPTH = 1024


def client_order_id(
    pair_id: int, signal_time: int, purpose: Purpose, leg: Leg, attempt: int
) -> str:
    """The order's id, fixed by what decided it, so a replay cannot send it twice.

    ``pa<pair>-<signal bar µs>-<o|c|u><leg><attempt>``, at most 36 characters (Binance's
    ``newClientOrderId`` limit).

    Examples
    --------
    >>> client_order_id(3, 1733616000000000, "open", "y", 0)
    'pa3-1733616000000000-oy0'
    """
    return f"pa{pair_id}-{signal_time}-{purpose[0]}{leg}{attempt}"


@dataclass(frozen=True)
class Order:
    """A market order of one leg (``side`` 1 buy, -1 sell; ``qty`` > 0).

    ``signal_time`` is the open time of the bar that decided it, ``sent`` the exchange time it
    was sent (that bar's end, or the time of a retry), ``ref_price`` the bar close it was sized on.
    """

    client_id: str
    pair_id: int
    symbol: str
    leg: Leg
    side: int
    qty: float
    purpose: Purpose
    signal_time: int
    sent: int
    attempt: int
    ref_price: float
    status: OrderStatus = "working"
    done_ts: int | None = None

    def closed(self, status: OrderStatus, ts: int) -> Order:
        """This order filled or cancelled at ``ts``."""
        return replace(self, status=status, done_ts=int(ts))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {k: getattr(self, k) for k in _ORDER_FIELDS}


@dataclass(frozen=True)
class Fill:
    """The fill of an order (market orders fill whole).

    ``price`` includes slippage; ``base`` is the quote side (or trade price plus the assumed
    half-spread) before slippage; ``slippage`` and ``fee`` are costs in quote currency;
    ``realised`` is the gross P&L this fill realised on its leg (0 when it opens).
    """

    fill_id: str
    client_id: str
    pair_id: int
    symbol: str
    leg: Leg
    side: int
    qty: float
    price: float
    base: float
    ref_price: float
    fee: float
    slippage: float
    ts: int
    source: FillSource
    assumed_spread: bool
    realised: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {k: getattr(self, k) for k in _FILL_FIELDS}


_ORDER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Order))
_FILL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Fill))


def round_lot(qty: float, step: float) -> float:
    """``qty`` rounded toward zero to a multiple of ``step`` (the backtester's rule)."""
    if step <= 0.0:
        return qty
    return math.copysign(math.floor(abs(qty) / step + 1e-9) * step, qty)


class Tape:
    """One symbol's recent quotes and trades, for fills at or after an order's time."""

    def __init__(self) -> None:
        self.quotes: deque[tuple[int, float, float]] = deque(maxlen=TAPE_DEPTH)
        self.trades: deque[tuple[int, float]] = deque(maxlen=TAPE_DEPTH)
        self.half_spread: float | None = None  # relative, of the last quote
        # the last mark price event: mark, funding rate, next funding time (µs)
        self.mark: tuple[float, float, int] | None = None

    def add_quote(self, ts: int, bid: float, ask: float) -> bool:
        """Record a best bid/ask; False (ignored) unless ``0 < bid <= ask`` are finite."""
        if not (math.isfinite(bid) and math.isfinite(ask) and 0 < bid <= ask):
            return False
        self.quotes.append((ts, bid, ask))
        self.half_spread = (ask - bid) / (ask + bid)
        return True

    def add_trades(self, ts: list[int], price: list[float]) -> None:
        """Record trades (kept only while the symbol has no quotes: fills use quotes then)."""
        if not self.quotes:
            self.trades.extend(zip(ts, price, strict=True))

    def fill(
        self, order: Order, *, fee_bps: float, slippage_bps: float, half_spread_bps: float
    ) -> Fill | None:
        """The order's fill on this tape, or None while nothing came at or after its time."""
        buy = order.side > 0
        if self.quotes:
            q = _first_at(self.quotes, order.sent)
            if q is None:
                return None
            ts, base, source, assumed = q[0], (q[2] if buy else q[1]), "quote", False
        else:
            t = _first_at(self.trades, order.sent)
            if t is None:
                return None
            hs = self.half_spread if self.half_spread is not None else half_spread_bps * 1e-4
            ts, source, assumed = t[0], "trade", True
            base = t[1] * (1.0 + hs) if buy else t[1] * (1.0 - hs)
        slip = slippage_bps * 1e-4
        price = base * (1.0 + slip) if buy else base * (1.0 - slip)
        return Fill(
            fill_id=f"{order.client_id}-f", client_id=order.client_id, pair_id=order.pair_id,
            symbol=order.symbol, leg=order.leg, side=order.side, qty=order.qty, price=price,
            base=base, ref_price=order.ref_price, fee=fee_bps * 1e-4 * order.qty * price,
            slippage=order.qty * abs(price - base), ts=int(ts), source=source,  # type: ignore[arg-type]
            assumed_spread=assumed,
        )  # fmt: skip


def _first_at(tape: deque[Any], ts: int) -> Any:
    """The earliest entry at or after ``ts`` (entries arrive in time order: scan from the end)."""
    found = None
    for e in reversed(tape):
        if e[0] < ts:
            break
        found = e
    return found


__all__ = [
    "TAPE_DEPTH",
    "Fill",
    "FillSource",
    "Leg",
    "Order",
    "OrderStatus",
    "Purpose",
    "Tape",
    "client_order_id",
    "round_lot",
]
