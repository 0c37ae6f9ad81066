"""Per-symbol ordering of live aggregate trades: dedupe, gap detection and REST backfill.

Binance aggregate trade ids ``a`` are consecutive per symbol. Every live trade passes through
:class:`TradeSequencer`: an id at or below the last emitted one is a duplicate (a reconnect or a
rotation overlap) and is dropped; the next id is emitted; a larger id is a gap, which starts a
backfill over REST while the live trades of that symbol are held back. The backfill emits the
missing trades in id order, then the held-back trades resume through the same checks, so the
output of each symbol is strictly increasing, consecutive ids.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from statarb.errors import FeedError
from statarb.ingest.backfill import AggTradeClient
from statarb.protocol.binance import TradeRow, tick_row

log = logging.getLogger(__name__)

Emit = Callable[[TradeRow], None]
Flush = Callable[[], Awaitable[None]]


@dataclass
class SymbolState:
    """What the sequencer knows of one symbol."""

    symbol: str
    last_id: int | None = None
    held: list[TradeRow] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    @property
    def backfilling(self) -> bool:
        return self.task is not None


class TradeSequencer:
    """Dedupe, detect gaps and backfill, per symbol.

    Parameters
    ----------
    rest
        The REST client used for backfills.
    emit
        Called with every trade to publish, in per-symbol id order.
    flush
        Awaited after every backfilled page so large backfills stream out.
    catch_up_tries, catch_up_pause
        When REST does not yet hold trades the live stream already delivered, retry this many
        times, ``catch_up_pause`` seconds apart, before counting them as lost.
    """

    def __init__(
        self,
        rest: AggTradeClient,
        emit: Emit,
        flush: Flush,
        *,
        catch_up_tries: int = 50,
        catch_up_pause: float = 0.2,
    ) -> None:
        self.rest = rest
        self.emit = emit
        self.flush = flush
        self.catch_up_tries = catch_up_tries
        self.catch_up_pause = catch_up_pause
        self.states: dict[str, SymbolState] = {}
        self.gaps = 0
        self.backfilled = 0
        self.duplicates = 0
        self.lost = 0
        self.backfill_errors = 0

    def add(self, symbol: str, last_id: int | None = None) -> None:
        """Track a symbol, optionally resuming after ``last_id``."""
        if symbol not in self.states:
            self.states[symbol] = SymbolState(symbol, last_id)

    def remove(self, symbol: str) -> None:
        """Forget a symbol (unsubscribed); cancels its backfill."""
        st = self.states.pop(symbol, None)
        if st is not None and st.task is not None:
            st.task.cancel()

    def catch_up(self, symbol: str) -> None:
        """After a (re)connect: backfill from the last id to the present, holding live trades."""
        st = self.states.get(symbol)
        if st is not None and st.last_id is not None and not st.backfilling:
            self._start(st)

    def on_tick(self, t: TradeRow) -> None:
        """One live trade (a :data:`TradeRow`)."""
        st = self.states.get(t[0])
        if st is None:
            return
        tid: int = t[5]  # type: ignore[assignment]
        last = st.last_id
        if st.task is None and last is not None and tid == last + 1:  # the common case
            st.last_id = tid
            self.emit(t)
            return
        if last is not None and tid <= last:
            self.duplicates += 1
            return
        if st.task is not None:
            if st.held and tid <= st.held[-1][5]:  # type: ignore[operator]
                self.duplicates += 1
            else:
                st.held.append(t)
            return
        if last is None or tid == last + 1:
            st.last_id = tid
            self.emit(t)
            return
        self.gaps += 1
        log.info("%s: trade ids %d..%d missing, backfilling over REST", t[0], last + 1, tid - 1)
        st.held.append(t)
        self._start(st)

    def _start(self, st: SymbolState) -> None:
        st.task = asyncio.create_task(self._backfill(st), name=f"backfill-{st.symbol}")

    async def cancel_all(self) -> None:
        """Stop every running backfill (shutdown); held trades wait for the next catch-up."""
        tasks = [s.task for s in self.states.values() if s.task is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _backfill(self, st: SymbolState) -> None:
        tries = 0
        cancelled = False
        try:
            while True:
                target = st.held[0][5] if st.held else None
                assert st.last_id is not None
                if target is not None and st.last_id + 1 >= target:
                    break
                before = st.last_id
                await self._fetch(st, target)
                if not st.held:
                    break
                if st.last_id == before:
                    tries += 1
                    if tries > self.catch_up_tries:
                        self._give_up(st, st.held[0][5])  # type: ignore[arg-type]
                        break
                    await asyncio.sleep(self.catch_up_pause)
        except FeedError as exc:
            self.backfill_errors += 1
            log.error("%s: backfill failed: %s", st.symbol, exc)
            if st.held:
                self._give_up(st, st.held[0][5])  # type: ignore[arg-type]
        except asyncio.CancelledError:
            cancelled = True  # shutdown: re-feeding the held trades could start a new backfill
            raise
        finally:
            if self.states.get(st.symbol) is st:
                st.task = None
                if not cancelled:
                    held, st.held = st.held, []
                    for t in held:
                        self.on_tick(t)

    async def _fetch(self, st: SymbolState, until: int | None) -> None:
        assert st.last_id is not None
        async for page in self.rest.iter_range(st.symbol, st.last_id + 1, until):
            for t in page:
                if t.trade_id > st.last_id:  # type: ignore[operator]
                    st.last_id = t.trade_id
                    self.backfilled += 1
                    self.emit(tick_row(t))
            await self.flush()

    def _give_up(self, st: SymbolState, target: int) -> None:
        assert st.last_id is not None
        missing = target - st.last_id - 1
        self.lost += missing
        log.error("%s: %d trades before id %d could not be backfilled", st.symbol, missing, target)
        st.last_id = target - 1


__all__ = ["SymbolState", "TradeSequencer"]
