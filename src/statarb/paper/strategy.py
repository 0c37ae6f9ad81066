"""One pair's paper strategy: decisions at bar close, its orders and the legging state machine.

At each closed bar of its pair the strategy runs the one signal rule
(:func:`statarb.analytics.signal_rule.signal_step`) on the book's z-score, as the backtester
does at the same close, and sends market orders for both legs (sized on the bar's closes). They
fill on the tape after the close (:class:`statarb.paper.orders.Tape`), the backtester's next-bar
fill. While orders work, no new decision is taken.

Legging: once one leg of an entry has filled and the other has not within ``leg_timeout``, the
strategy retries the late leg (``on_timeout="retry"``, up to ``max_retries`` times) or unwinds the
filled one (``"unwind"``, or when retries are used up). A late exit leg is always retried. Each
step is an event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from statarb.analytics.ou import time_stop_bars
from statarb.analytics.signal_rule import REASONS, signal_step_py
from statarb.paper.orders import Fill, Leg, Order, Purpose, client_order_id, round_lot
from statarb.paper.position import PaperPosition
from statarb.paper.settings import PaperSettings


@dataclass(frozen=True)
class PaperEvent:
    """A step of a strategy (``kind``: signal, skipped, order, fill, opened, closed, retry,
    unwind, unwound, flatten, cancel, funding) at exchange time ``ts``."""

    pair_id: int
    ts: int
    kind: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"pair_id": self.pair_id, "ts": self.ts, "kind": self.kind, "detail": self.detail}


@dataclass
class Changes:
    """What a step changed, in order: to persist (then publish) together."""

    orders: list[Order] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    events: list[PaperEvent] = field(default_factory=list)
    positions: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.orders or self.fills or self.events or self.positions)


class BarInput(NamedTuple):
    """What a strategy reads at a bar close: the book's analytics of the pair and its closes."""

    time: int
    end: int
    z: float
    hedge_ratio: float
    half_life: float
    y: float
    x: float


class PaperStrategy:
    """The paper strategy of book pair ``pair_id`` (legs ``a`` = y, ``b`` = x)."""

    def __init__(
        self,
        pair_id: int,
        a: str,
        b: str,
        settings: PaperSettings,
        position: PaperPosition | None = None,
        working: list[Order] | None = None,
    ) -> None:
        self.pair_id, self.a, self.b, self.settings = int(pair_id), a, b, settings
        self.position = position or PaperPosition()
        self.working: dict[str, Order] = {o.leg: o for o in working or () if o.status == "working"}

    def symbol(self, leg: str) -> str:
        """The symbol of leg ``y`` or ``x``."""
        return self.a if leg == "y" else self.b

    # -- bar close ----------------------------------------------------------------------------
    def on_bar(self, bar: BarInput, out: Changes) -> None:
        """Decide at the close of ``bar`` (ignored when already decided: a replay)."""
        p, s = self.position, self.settings
        if bar.time <= p.last_bar:
            return
        p.last_bar, p.mark_y, p.mark_x = bar.time, bar.y, bar.x
        p.updated_ts = max(p.updated_ts, bar.end)
        out.positions.add(self.pair_id)
        if p.status == "open":
            p.held += 1
        if p.status not in ("flat", "open"):
            return
        new, why = signal_step_py(
            p.side, bar.z, p.held, p.limit, s.entry, s.exit, s.stop or 0.0, s.max_hold or 0
        )
        if new == p.side:
            return
        if p.status == "open":
            p.exit_reason = REASONS.get(int(why))
            self._event(out, bar.end, "signal", action="exit", reason=p.exit_reason, z=bar.z)
            self._send_exit(bar.time, bar.end, out)
            return
        self._enter(int(new), bar, out)

    def _enter(self, side: int, bar: BarInput, out: Changes) -> None:
        p, s = self.position, self.settings
        b = bar.hedge_ratio
        if not math.isfinite(b):
            return
        unit = abs(bar.y) + abs(b) * abs(bar.x)
        q_y = round_lot(side * s.notional / unit, s.lot_y)
        q_x = round_lot(-side * b * s.notional / unit, s.lot_x)
        if min(abs(q_y * bar.y), abs(q_x * bar.x)) < s.min_notional or q_y == 0.0:
            p.skipped += 1
            self._event(out, bar.end, "skipped", side=side, z=bar.z, qty_y=q_y, qty_x=q_x,
                        reason="below the lot size or minimum notional")  # fmt: skip
            return
        p.status, p.target, p.signal_time, p.signal_z = "entering", side, bar.time, bar.z
        p.filled_legs, p.exit_reason = [], None
        limit = time_stop_bars(bar.half_life, s.time_stop) if s.time_stop is not None else None
        p.limit = limit or 0
        self._event(out, bar.end, "signal", action="enter", side=side, z=bar.z, limit=p.limit)
        for leg, q, px in (("y", q_y, bar.y), ("x", q_x, bar.x)):
            if q != 0.0:
                self._send(leg, q, "open", bar.time, bar.end, 0, px, out)  # type: ignore[arg-type]

    def _send_exit(self, signal_time: int, ts: int, out: Changes) -> None:
        p = self.position
        p.status, p.signal_time, p.filled_legs = "exiting", signal_time, []
        for leg, q, px in (("y", p.qty_y, p.mark_y), ("x", p.qty_x, p.mark_x)):
            if q != 0.0:
                ref = math.nan if px is None else px
                self._send(leg, -q, "close", signal_time, ts, 0, ref, out)  # type: ignore[arg-type]
        if not self.working:
            self._complete(ts, out)

    def _send(self, leg: Leg, q: float, purpose: Purpose, signal_time: int, ts: int,
              attempt: int, ref: float, out: Changes) -> None:  # fmt: skip
        o = Order(
            client_id=client_order_id(self.pair_id, signal_time, purpose, leg, attempt),
            pair_id=self.pair_id, symbol=self.symbol(leg), leg=leg, side=1 if q > 0 else -1,
            qty=abs(q), purpose=purpose, signal_time=signal_time, sent=ts, attempt=attempt,
            ref_price=ref,
        )  # fmt: skip
        self.working[leg] = o
        out.orders.append(o)
        self._event(out, ts, "order", client_id=o.client_id, symbol=o.symbol, side=o.side,
                    qty=o.qty, purpose=purpose, attempt=attempt)  # fmt: skip

    # -- fills and timeouts -------------------------------------------------------------------
    def on_fill(self, fill: Fill, out: Changes) -> Fill:
        """Book the fill of a working order; return it with the P&L it realised."""
        p = self.position
        order = self.working.pop(fill.leg)
        realised = p.apply(fill)
        booked = Fill(**{**fill.to_dict(), "realised": realised})
        out.orders.append(order.closed("filled", fill.ts))
        out.fills.append(booked)
        out.positions.add(self.pair_id)
        p.filled_legs = sorted({*p.filled_legs, fill.leg})
        self._event(out, fill.ts, "fill", client_id=fill.client_id, price=fill.price,
                    qty=fill.qty, side=fill.side, source=fill.source)  # fmt: skip
        if not self.working:
            self._complete(fill.ts, out)
        return booked

    def _complete(self, ts: int, out: Changes) -> None:
        p = self.position
        if p.status == "entering":
            p.status, p.side, p.held, p.entry_ts = "open", p.target, 0, ts
            self._event(out, ts, "opened", side=p.side, qty_y=p.qty_y, qty_x=p.qty_x)
        elif p.status in ("exiting", "unwinding"):
            kind = "closed" if p.status == "exiting" else "unwound"
            if p.status == "exiting":
                p.trades += 1
            p.status, p.side, p.target, p.held, p.limit, p.entry_ts = "flat", 0, 0, 0, 0, None
            self._event(out, ts, kind, realised=p.realised, fees=p.fees, reason=p.exit_reason)
        p.filled_legs = []
        out.positions.add(self.pair_id)

    def deadline(self) -> int | None:
        """When a working order times out (only once the other leg of its ticket filled)."""
        if not self.working or not self.position.filled_legs:
            return None
        return min(o.sent for o in self.working.values()) + self.settings.timeout_us

    def on_time(self, now: int, out: Changes) -> None:
        """Act on working orders late by ``leg_timeout`` (exchange time ``now``)."""
        due = self.deadline()
        if due is None or now < due:
            return
        s = self.settings
        for leg, o in list(self.working.items()):
            if now - o.sent < s.timeout_us:
                continue
            out.orders.append(o.closed("cancelled", now))
            del self.working[leg]
            retry = o.purpose != "open" or (s.on_timeout == "retry" and o.attempt < s.max_retries)
            if retry:
                self._event(out, now, "retry", client_id=o.client_id, attempt=o.attempt + 1)
                q = o.side * o.qty
                self._send(o.leg, q, o.purpose, o.signal_time, now, o.attempt + 1, o.ref_price, out)
                continue
            self._event(out, now, "unwind", client_id=o.client_id, attempts=o.attempt + 1)
            self._unwind(now, out)
        out.positions.add(self.pair_id)

    def _unwind(self, now: int, out: Changes) -> None:
        p = self.position
        for leg, o in list(self.working.items()):  # the other entry leg, if still working
            out.orders.append(o.closed("cancelled", now))
            del self.working[leg]
        p.status, p.filled_legs, p.exit_reason = "unwinding", [], "legging"
        for leg, q, px in (("y", p.qty_y, p.mark_y), ("x", p.qty_x, p.mark_x)):
            if q != 0.0:
                sig = now if p.signal_time is None else p.signal_time
                self._send(leg, -q, "unwind", sig, now, 0, math.nan if px is None else px, out)  # type: ignore[arg-type]
        if not self.working:
            self._complete(now, out)

    def on_funding(self, leg: Leg, time: int, mark: float, rate: float, out: Changes) -> None:
        """Settle the funding of ``leg`` at funding ``time``: ``-qty x mark x rate`` (once)."""
        p = self.position
        if time <= getattr(p, f"last_funding_{leg}"):
            return
        setattr(p, f"last_funding_{leg}", time)
        q = getattr(p, f"qty_{leg}")
        out.positions.add(self.pair_id)
        if q == 0.0:
            return
        cash = -q * mark * rate
        p.funding += cash
        self._event(out, time, "funding", leg=leg, qty=q, mark=mark, rate=rate, cash=cash)

    # -- control ------------------------------------------------------------------------------
    def cancel_all(self, now: int, out: Changes) -> None:
        """Cancel every working order; what is held stays, as a position the rule manages
        (``open``, a legged entry included) or ``flat`` when nothing is held."""
        for o in self.working.values():
            out.orders.append(o.closed("cancelled", now))
            self._event(out, now, "cancel", client_id=o.client_id)
        self.working.clear()
        p = self.position
        if p.status in ("entering", "exiting", "unwinding"):
            if p.qty_y == 0.0 and p.qty_x == 0.0:
                p.status, p.side, p.target, p.held = "flat", 0, 0, 0
            else:
                p.status, p.side = "open", p.side or p.target
                p.entry_ts = p.entry_ts or now
            p.filled_legs = []
            out.positions.add(self.pair_id)

    def flatten(self, now: int, out: Changes) -> None:
        """Cancel working orders and close whatever is held with market orders sent at ``now``."""
        self.cancel_all(now, out)
        p = self.position
        self._event(out, now, "flatten", qty_y=p.qty_y, qty_x=p.qty_x)
        p.exit_reason = "flatten"
        if p.qty_y == 0.0 and p.qty_x == 0.0:
            p.status, p.side, p.target, p.filled_legs = "flat", 0, 0, []
            out.positions.add(self.pair_id)
            return
        self._send_exit(now, now, out)
        out.positions.add(self.pair_id)

    def _event(self, out: Changes, ts: int, kind: str, **detail: Any) -> None:
        out.events.append(PaperEvent(self.pair_id, int(ts), kind, detail))


__all__ = ["BarInput", "Changes", "PaperEvent", "PaperStrategy"]
