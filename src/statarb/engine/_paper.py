"""Paper trading of the book: a component of the engine with its own state.

:class:`PaperTrader` wraps the pure :class:`~statarb.paper.PaperDesk`. The book hands it each
pair update at bar close (:meth:`PaperTrader.on_update`); the engine hands it the quotes and
trades of the symbols it trades. Every change set (orders, fills, events, positions) goes to the
store in one transaction, in a worker thread and in order, and only then is it published on
topic ``paper`` and fed to the alert metrics (``paper_pnl``, ``paper_unrealised``, ``paper_fill``).
On start the strategies, their positions and working orders are read back from the store, so an
open position survives a restart (``kill -9`` included) exactly.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statarb.alerts.rules import metric_key
from statarb.analytics.tracker import PairSnapshot
from statarb.engine._book import BookEntry, PairBook
from statarb.errors import InputError, StatarbError
from statarb.paper import (
    BarInput,
    Changes,
    Order,
    PaperDesk,
    PaperPosition,
    PaperStrategy,
    paper_settings,
)
from statarb.protocol.binance import MarkPrice, QuoteRow

if TYPE_CHECKING:
    from statarb.engine._events import Hub
    from statarb.model import TickBatch
    from statarb.store.base import TickStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Batch:
    """The new rows of a change set (positions are read when it is written: the newest state)."""

    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    events: list[dict[str, Any]]


class PaperTrader:
    """Paper-trade the pairs of the book that have a strategy attached.

    Parameters
    ----------
    store
        Where strategies, orders, fills, events and positions are persisted.
    book
        The pair book (its pairs are what a strategy attaches to).
    hub
        Returns where rows are published now (topic ``paper``).
    on_metrics
        Called with metric values, their time and the receipt time (alert evaluation).
    on_latency
        Called with the bar-close-to-decided time of each update (µs, stage ``paper``).
    clock
        Wall clock in epoch µs.
    """

    def __init__(
        self,
        store: TickStore,
        book: PairBook,
        hub: Callable[[], Hub],
        *,
        on_metrics: Callable[[dict[str, float], int, int], None],
        on_latency: Callable[[int], None],
        clock: Callable[[], int],
    ) -> None:
        self.store, self.book, self._hub = store, book, hub
        self._on_metrics, self._on_latency, self.clock = on_metrics, on_latency, clock
        self.desk = PaperDesk()
        self._entries: dict[int, BookEntry] = {}
        # the writer's inbox: new rows in order, the pairs whose position changed, the newest
        # exchange and receipt times; _wake starts a write, _idle is set while nothing waits
        self._pending: list[_Batch] = []
        self._dirty: set[int] = set()
        self._stamp = (0, 0)
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._closing = False
        self._writer: asyncio.Task[None] | None = None
        self._stopping: set[int] = set()  # flattened by stop: detached once flat
        self.counts = {"decisions": 0, "orders": 0, "fills": 0, "writes": 0, "store_errors": 0}

    # -- lifecycle ----------------------------------------------------------------------------
    async def load(self) -> None:
        """Resume the active strategies of the store (after the book is loaded)."""
        self._wake, self._idle, self._closing = asyncio.Event(), asyncio.Event(), False
        self._idle.set()
        self._writer = asyncio.create_task(self._write_loop(), name="statarb-paper")
        rows = await asyncio.to_thread(self.store.paper.strategies)
        working = await asyncio.to_thread(self.store.paper.orders, status="working", limit=10_000)
        by_entry = {e.id: e for e in self.book.entries}
        for row in rows:
            entry = by_entry.get(row["pair_id"])
            if not row["active"]:
                continue
            if entry is None:
                log.error("paper strategy of book pair %s has no pair in the book; not resumed",
                          row["pair_id"])  # fmt: skip
                continue
            try:
                settings = paper_settings(row["settings"])
                position = PaperPosition.from_dict(row["position"])
            except (StatarbError, TypeError, ValueError) as exc:
                log.error("paper strategy of book pair %s is invalid: %s", row["pair_id"], exc)
                continue
            orders = [_order(o) for o in working if o["pair_id"] == entry.id]
            self._attach(entry, PaperStrategy(entry.id, entry.a, entry.b, settings, position,
                                              orders))  # fmt: skip

    async def close(self) -> None:
        """Write what is queued, then stop the writer."""
        if self._wake is not None and self._writer is not None:
            self._closing = True
            self._wake.set()
            await self._writer
        self._wake = self._idle = self._writer = None

    async def flush(self) -> None:
        """Return once every queued change set is in the store and published."""
        while self._idle is not None and not self._idle.is_set():
            await self._idle.wait()

    def _attach(self, entry: BookEntry, strategy: PaperStrategy) -> None:
        self._entries[entry.id] = entry
        self.desk.attach(strategy)

    # -- control ------------------------------------------------------------------------------
    async def start(self, pair_id: int, settings: dict[str, Any]) -> dict[str, Any]:
        """Attach a strategy to book pair ``pair_id`` (or re-configure it; the position stays)."""
        entry = next((e for e in self.book.entries if e.id == pair_id), None)
        if entry is None:
            raise LookupError(f"book pair {pair_id} does not exist (see GET /api/v1/book)")
        s = paper_settings(settings)
        old = self.desk.strategies.get(pair_id)
        if old is None:
            stored = {r["pair_id"]: r for r in await asyncio.to_thread(self.store.paper.strategies)}
            prior = stored.get(pair_id)
            position = PaperPosition.from_dict(prior["position"]) if prior else PaperPosition()
            working = await asyncio.to_thread(
                self.store.paper.orders, pair_id=pair_id, status="working", limit=10_000
            )
            strategy = PaperStrategy(pair_id, entry.a, entry.b, s, position,
                                     [_order(o) for o in working])  # fmt: skip
        else:
            strategy = PaperStrategy(pair_id, entry.a, entry.b, s, old.position,
                                     list(old.working.values()))  # fmt: skip
        await asyncio.to_thread(self.store.paper.save_strategy, pair_id, s.to_dict(),
                                strategy.position.to_dict(), active=True)  # fmt: skip
        self._attach(entry, strategy)
        self._stopping.discard(pair_id)  # a start cancels a stop still waiting for its fills
        return self.strategy_row(pair_id)

    async def stop(self, pair_id: int, *, flatten: bool) -> dict[str, Any]:
        """Stop trading a pair. Without ``flatten`` working orders are cancelled and the
        position is kept as it is (a later start resumes it); with ``flatten`` the position is
        closed by market orders sent now and the strategy stops once they filled."""
        st = self.desk.strategies.get(pair_id)
        if st is None:
            raise LookupError(f"book pair {pair_id} has no paper strategy running")
        now = self.desk.now or self.clock()
        out = self.desk.flatten(pair_id, now) if flatten else self.desk.cancel(pair_id, now)
        out.positions.add(pair_id)
        self._stopping.add(pair_id)
        self._submit(out, now)
        await self.flush()
        if pair_id in self.desk.strategies:
            return {**self.strategy_row(pair_id), "active": True, "stopping": True}
        return {"pair_id": pair_id, "a": st.a, "b": st.b, "active": False, "stopping": False,
                "settings": st.settings.to_dict(), "position": self._position_row(st),
                "working": []}  # fmt: skip

    async def _detach_stopped(self) -> None:
        for pid in sorted(self._stopping):
            st = self.desk.strategies.get(pid)
            if st is not None and st.working:
                continue
            self._stopping.discard(pid)
            if st is not None:
                self.desk.detach(pid)
                self._entries.pop(pid, None)
            await asyncio.to_thread(self.store.paper.set_active, pid, False)

    # -- live ---------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """Whether any strategy is attached."""
        return bool(self.desk.strategies)

    def trades(self, symbol: str) -> bool:
        """Whether a strategy trades ``symbol``."""
        return self.desk.trades(symbol)

    def on_update(
        self, entry: BookEntry, snap: PairSnapshot, y: float, x: float, end: int, recv_ts: int
    ) -> None:
        """A pair of the book closed a bar: its strategy (if any) decides."""
        st = self.desk.strategies.get(entry.id)
        if st is None:
            return
        bar = BarInput(snap.time, end, snap.zscore, snap.hedge_ratio, snap.half_life, y, x)
        out = self.desk.on_bar(entry.id, bar)
        self.counts["decisions"] += 1
        self._submit(out, end, recv_ts)
        if recv_ts:
            self._on_latency(max(0, self.clock() - recv_ts))

    def on_quotes(self, rows: list[QuoteRow]) -> None:
        """Best bid/ask updates (only the traded symbols' are read)."""
        for sym, ts, bid, _bs, ask, *_ in rows:
            if self.desk.trades(sym):
                out = self.desk.on_quote(sym, ts, bid=bid, ask=ask)
                if out:
                    self._submit(out, ts)

    def on_marks(self, marks: list[MarkPrice]) -> None:
        """Mark-price events (funding of the traded symbols' legs held at funding times)."""
        for m in marks:
            if self.desk.trades(m.symbol):
                out = self.desk.on_mark(m.symbol, m.ts, mark=m.mark_price, rate=m.funding_rate,
                                        next_funding=m.next_funding_time)  # fmt: skip
                if out:
                    self._submit(out, m.ts)

    def on_trades(self, sym: str, tb: TickBatch) -> None:
        """Trades of a traded symbol."""
        if len(tb) and self.desk.trades(sym):
            out = self.desk.on_trades(sym, tb.ts.tolist(), tb.price.tolist())
            if out:
                self._submit(out, int(tb.ts.max()))

    # -- persistence, then publication --------------------------------------------------------
    def _submit(self, out: Changes, ts: int = 0, recv_ts: int = 0) -> None:
        """Hand a change set to the writer (the bar-close path only freezes its new rows)."""
        if not out:
            return
        if out.orders or out.fills or out.events:
            self.counts["orders"] += sum(1 for o in out.orders if o.status == "working")
            self.counts["fills"] += len(out.fills)
            self._pending.append(_Batch([o.to_dict() for o in out.orders],
                                        [f.to_dict() for f in out.fills],
                                        [e.to_dict() for e in out.events]))  # fmt: skip
        self._dirty.update(out.positions)
        self._stamp = (max(self._stamp[0], ts), max(self._stamp[1], recv_ts))
        if self._wake is None:  # no loop (a synchronous caller): write and publish here
            self._commit(*self._take())
            return
        if not self._wake.is_set():
            assert self._idle is not None
            self._idle.clear()
            self._wake.set()

    def _take(self) -> tuple[list[_Batch], set[int], tuple[int, int]]:
        work, pids, stamp = self._pending, self._dirty, self._stamp
        self._pending, self._dirty, self._stamp = [], set(), (0, 0)
        return work, pids, stamp

    async def _write_loop(self) -> None:
        """Write change sets in order: all those made since the last write in one transaction.

        The positions written are their state when the transaction starts, which is the state
        after every change set it holds (the event loop made them all before this runs).
        """
        assert self._wake is not None and self._idle is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            work, pids, stamp = self._take()
            try:
                if work or pids:
                    positions, views = self._snapshot(pids)
                    await asyncio.to_thread(self._write, work, positions)
                    self._publish(work, views, stamp)
                    if self._stopping:
                        await self._detach_stopped()
            except Exception:  # the writer must outlive one bad change set
                log.exception("paper change set not processed")
            if not self._pending and not self._dirty:
                self._idle.set()
                if self._closing:
                    return

    def _snapshot(self, pids: set[int]) -> tuple[dict[int, Any], dict[int, Any]]:
        positions, views = {}, {}
        for pid in sorted(pids):
            st = self.desk.strategies.get(pid)
            if st is not None:
                positions[pid] = st.position.to_dict()
                views[pid] = self._position_row(st)
        return positions, views

    def _commit(self, work: list[_Batch], pids: set[int], stamp: tuple[int, int]) -> None:
        positions, views = self._snapshot(pids)
        self._write(work, positions)
        self._publish(work, views, stamp)

    def _write(self, work: list[_Batch], positions: dict[int, Any]) -> None:
        try:
            self.store.paper.save_changes(
                [o for b in work for o in b.orders], [f for b in work for f in b.fills],
                [e for b in work for e in b.events], positions,
            )  # fmt: skip
            self.counts["writes"] += 1
        except StatarbError:
            self.counts["store_errors"] += 1
            log.exception("paper change set not stored")
            raise

    def _publish(
        self, work: list[_Batch], views: dict[int, dict[str, Any]], stamp: tuple[int, int]
    ) -> None:
        fills = [f for b in work for f in b.fills]
        hub = self._hub()
        if hub.wants("paper"):
            hub.publish("paper", "changes", {
                "orders": [o for b in work for o in b.orders], "fills": [_json(f) for f in fills],
                "events": [e for b in work for e in b.events], "positions": list(views.values()),
            })  # fmt: skip
        ts, recv_ts = stamp
        filled = {f["pair_id"] for f in fills}
        for pid, view in views.items():
            entry = self._entries.get(pid)
            if entry is None or view["pnl"] is None:
                continue
            at = ts or view["updated_ts"]
            values = {
                metric_key("paper_pnl", entry.target, entry.timeframe): view["pnl"],
                metric_key("paper_unrealised", entry.target, entry.timeframe): view["unrealised"],
            }
            key = metric_key("paper_fill", entry.target, entry.timeframe)
            if pid in filled:  # a fill is an event: 1 for this evaluation, then 0
                self._on_metrics({**values, key: 1.0}, at, recv_ts)
                values[key] = 0.0
            self._on_metrics({k: v for k, v in values.items() if math.isfinite(v)}, at, recv_ts)

    # -- views --------------------------------------------------------------------------------
    def _position_row(self, st: PaperStrategy) -> dict[str, Any]:
        entry = self._entries.get(st.pair_id)
        return {"pair_id": st.pair_id, "a": st.a, "b": st.b,
                "timeframe": entry.timeframe if entry else None,
                **st.position.view()}  # fmt: skip

    def positions(self) -> list[dict[str, Any]]:
        """The position of every running strategy, by pair id."""
        return [self._position_row(st) for _, st in sorted(self.desk.strategies.items())]

    def strategy_row(self, pair_id: int) -> dict[str, Any]:
        """A running strategy: its pair, settings, position and working orders."""
        st = self.desk.strategies[pair_id]
        return {"pair_id": pair_id, "a": st.a, "b": st.b, "active": True,
                "settings": st.settings.to_dict(), "position": self._position_row(st),
                "working": [o.to_dict() for o in st.working.values()]}  # fmt: skip

    def status(self) -> dict[str, Any]:
        """Counters, the exchange time seen and every running strategy."""
        return {"strategies": [self.strategy_row(p) for p in sorted(self.desk.strategies)],
                "counts": dict(self.counts), "exchange_time": self.desk.now or None,
                "queued": len(self._pending)}  # fmt: skip


def _order(row: dict[str, Any]) -> Order:
    return Order(**row)


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()}  # fmt: skip


def check_pair(pair_id: Any) -> int:
    """A book pair id from user input."""
    if isinstance(pair_id, bool) or not isinstance(pair_id, int) or not 1 <= pair_id <= 2**62:
        raise InputError(f"pair_id must be a book pair id (a positive integer), got {pair_id!r}")
    return pair_id


__all__ = ["PaperTrader", "check_pair"]
