"""The state of one paper strategy: a two-leg spread position, its P&L and its working ticket."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from statarb.paper.orders import Fill, Leg

PositionStatus = Literal["flat", "entering", "open", "exiting", "unwinding"]


@dataclass
class PaperPosition:
    """Both legs of a pair held as one spread position (mutable: owned by its strategy).

    ``status`` is ``flat``, ``entering`` (entry orders working), ``open``, ``exiting`` (exit
    orders working) or ``unwinding`` (a legged entry being undone). ``side`` is the spread side
    held (1 long: long y, short x), ``target`` the side an entry is building. Quantities are
    signed holdings; ``avg_*`` their average fill prices. ``realised`` is the gross P&L of
    closed quantities (slippage included, as it is in the fill prices), ``fees`` every fee paid;
    ``funding`` the funding cash received (negative: paid) at the funding times of the legs'
    mark-price streams (``last_funding_*``: the last settled, never settled twice). ``held``
    counts bar closes since the entry filled, ``limit`` is the time stop in bars fixed at the
    signal bar (0: none). ``last_bar`` is the open time of the last bar decided on (a bar at or
    before it is never decided again).
    """

    status: PositionStatus = "flat"
    side: int = 0
    target: int = 0
    qty_y: float = 0.0
    qty_x: float = 0.0
    avg_y: float = 0.0
    avg_x: float = 0.0
    mark_y: float | None = None
    mark_x: float | None = None
    signal_time: int | None = None
    signal_z: float | None = None
    exit_reason: str | None = None
    entry_ts: int | None = None
    held: int = 0
    limit: int = 0
    filled_legs: list[str] = field(default_factory=list)
    realised: float = 0.0
    fees: float = 0.0
    slippage: float = 0.0
    funding: float = 0.0
    trades: int = 0
    skipped: int = 0
    last_bar: int = -1
    last_funding_y: int = 0
    last_funding_x: int = 0
    updated_ts: int = 0

    @property
    def unrealised(self) -> float:
        """P&L of the holdings at the marks (last bar closes)."""
        out = 0.0
        if self.qty_y and self.mark_y is not None:
            out += self.qty_y * (self.mark_y - self.avg_y)
        if self.qty_x and self.mark_x is not None:
            out += self.qty_x * (self.mark_x - self.avg_x)
        return out

    @property
    def pnl(self) -> float:
        """Net P&L: realised + unrealised - fees + funding."""
        return self.realised + self.unrealised - self.fees + self.funding

    def apply(self, fill: Fill) -> float:
        """Book a fill on its leg (average cost); return the gross P&L it realised."""
        leg: Leg = fill.leg
        q = getattr(self, f"qty_{leg}")
        avg = getattr(self, f"avg_{leg}")
        d = fill.side * fill.qty
        realised = 0.0
        if q == 0.0 or (q > 0) == (d > 0):  # opening or adding
            new = q + d
            avg = (q * avg + d * fill.price) / new if new else 0.0
        else:  # reducing (and maybe reversing)
            closed = min(abs(d), abs(q))
            realised = closed * (fill.price - avg) * (1.0 if q > 0 else -1.0)
            new = q + d
            if abs(d) > abs(q):
                avg = fill.price
            elif math.isclose(new, 0.0, abs_tol=1e-12 * max(abs(q), 1.0)):
                new, avg = 0.0, 0.0
        setattr(self, f"qty_{leg}", new)
        setattr(self, f"avg_{leg}", avg)
        self.realised += realised
        self.fees += fill.fee
        self.slippage += fill.slippage
        self.updated_ts = max(self.updated_ts, fill.ts)
        return realised

    def to_dict(self) -> dict[str, Any]:
        """The stored form (floats exact through JSON); a copy."""
        out = {k: getattr(self, k) for k in _FIELDS}
        out["filled_legs"] = list(self.filled_legs)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaperPosition:
        """The state stored by :meth:`to_dict` (unknown keys ignored)."""
        return cls(**{k: v for k, v in data.items() if k in _FIELDS})

    def view(self) -> dict[str, Any]:
        """The state with its derived P&L (JSON-safe), as the API shows it."""
        out = self.to_dict()
        out["unrealised"] = u = self.unrealised
        out["pnl"] = self.realised + u - self.fees + self.funding
        for k, v in out.items():
            if type(v) is float and not math.isfinite(v):
                out[k] = None
        return out


_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PaperPosition))

__all__ = ["PaperPosition", "PositionStatus"]
