"""The paper desk: every attached strategy and the tapes their orders fill on (pure, no I/O).

The engine feeds it bar closes (:meth:`PaperDesk.on_bar`), quotes and trades in exchange time;
each call returns the :class:`~statarb.paper.strategy.Changes` to persist and publish. Leg
timeouts run on exchange time: the newest quote or trade time seen.
"""

from __future__ import annotations

from statarb.paper.orders import Tape
from statarb.paper.strategy import BarInput, Changes, PaperStrategy


class PaperDesk:
    """Strategies by book pair id, and one tape per traded symbol.

    Examples
    --------
    >>> from statarb.paper import PaperSettings
    >>> desk = PaperDesk()
    >>> desk.attach(PaperStrategy(1, "AUSDT", "BUSDT", PaperSettings(notional=1000.0)))
    >>> out = desk.on_bar(1, BarInput(0, 60, z=2.5, hedge_ratio=1.0, half_life=10.0,
    ...                               y=100.0, x=100.0))
    >>> [(o.symbol, o.side, o.qty) for o in out.orders]
    [('AUSDT', -1, 5.0), ('BUSDT', 1, 5.0)]
    >>> out = desk.on_quote("AUSDT", 61, bid=99.9, ask=100.1)
    >>> out.fills[0].base
    99.9
    """

    def __init__(self) -> None:
        self.strategies: dict[int, PaperStrategy] = {}
        self.tapes: dict[str, Tape] = {}
        self._by_symbol: dict[str, list[PaperStrategy]] = {}
        self._busy: dict[int, PaperStrategy] = {}  # strategies with working orders
        self.now = 0

    def attach(self, strategy: PaperStrategy) -> None:
        """Trade ``strategy`` (replacing the pair's previous one)."""
        self.detach(strategy.pair_id)
        self.strategies[strategy.pair_id] = strategy
        for sym in (strategy.a, strategy.b):
            self.tapes.setdefault(sym, Tape())
            self._by_symbol.setdefault(sym, []).append(strategy)
        self._track(strategy)

    def detach(self, pair_id: int) -> PaperStrategy | None:
        """Stop trading a pair here; return its strategy (its position untouched)."""
        st = self.strategies.pop(pair_id, None)
        self._busy.pop(pair_id, None)
        if st is None:
            return None
        for sym in (st.a, st.b):
            group = self._by_symbol.get(sym, [])
            if st in group:
                group.remove(st)
            if not group:
                self._by_symbol.pop(sym, None)
                self.tapes.pop(sym, None)
        return st

    def trades(self, symbol: str) -> bool:
        """Whether a strategy trades ``symbol``."""
        return symbol in self._by_symbol

    # -- events -------------------------------------------------------------------------------
    def on_bar(self, pair_id: int, bar: BarInput) -> Changes:
        """A closed bar of a pair: its strategy decides; new orders fill at once if the tape
        already holds a quote (or trade) at or after the bar's end."""
        out = Changes()
        st = self.strategies.get(pair_id)
        if st is None:
            return out
        self.now = max(self.now, bar.end)
        st.on_bar(bar, out)
        self._fill(st, out)
        return out

    def on_quote(self, symbol: str, ts: int, *, bid: float, ask: float) -> Changes:
        """A best bid/ask of a traded symbol."""
        out = Changes()
        tape = self.tapes.get(symbol)
        if tape is None or not tape.add_quote(ts, bid, ask):
            return out
        self._advance(ts, symbol, out)
        return out

    def on_trades(self, symbol: str, ts: list[int], price: list[float]) -> Changes:
        """Trades of a traded symbol (in time order)."""
        out = Changes()
        tape = self.tapes.get(symbol)
        if tape is None or not ts:
            return out
        tape.add_trades(ts, price)
        self._advance(max(ts), symbol, out)
        return out

    def on_mark(
        self, symbol: str, ts: int, *, mark: float, rate: float, next_funding: int
    ) -> Changes:
        """A mark-price event: a funding time passed since the last one settles the legs held
        then, at the last mark and rate announced before it."""
        out = Changes()
        tape = self.tapes.get(symbol)
        if tape is None:
            return out
        last = tape.mark
        if last is not None and ts >= last[2] > 0:
            for st in self._by_symbol.get(symbol, ()):
                leg = "y" if symbol == st.a else "x"
                st.on_funding(leg, last[2], last[0], last[1], out)  # type: ignore[arg-type]
        tape.mark = (mark, rate, next_funding)
        self.now = max(self.now, ts)
        return out

    def on_time(self, now: int) -> Changes:
        """Exchange time moved to ``now`` without a traded symbol's event."""
        out = Changes()
        self.now = max(self.now, now)
        for st in list(self._busy.values()):
            self._timeouts(st, out)
        return out

    def cancel(self, pair_id: int, now: int) -> Changes:
        """Cancel a strategy's working orders (:meth:`PaperStrategy.cancel_all`)."""
        out = Changes()
        st = self.strategies[pair_id]
        st.cancel_all(now, out)
        self._track(st)
        return out

    def flatten(self, pair_id: int, now: int) -> Changes:
        """Close a strategy's position at market (:meth:`PaperStrategy.flatten`)."""
        out = Changes()
        st = self.strategies[pair_id]
        st.flatten(now, out)
        self._fill(st, out)
        return out

    def _advance(self, ts: int, symbol: str, out: Changes) -> None:
        self.now = max(self.now, ts)
        for st in self._by_symbol.get(symbol, ()):
            if st.working:
                self._fill(st, out)
        for st in list(self._busy.values()):
            self._timeouts(st, out)

    def _track(self, st: PaperStrategy) -> None:
        if st.working:
            self._busy[st.pair_id] = st
        else:
            self._busy.pop(st.pair_id, None)

    def _timeouts(self, st: PaperStrategy, out: Changes) -> None:
        due = st.deadline()
        if due is not None and self.now >= due:
            st.on_time(self.now, out)
            self._fill(st, out)

    def _fill(self, st: PaperStrategy, out: Changes) -> None:
        """Fill what the tape can; completing a ticket sends no order, a timeout may."""
        s = st.settings
        for o in list(st.working.values()):
            tape = self.tapes.get(o.symbol)
            if tape is None:
                continue
            f = tape.fill(o, fee_bps=s.fee_bps, slippage_bps=s.slippage_bps,
                          half_spread_bps=s.half_spread_bps)  # fmt: skip
            if f is not None:
                st.on_fill(f, out)
        self._track(st)


__all__ = ["PaperDesk"]
