"""Paper trading over a replayed recording against the backtest of its bars (the parity report).

:func:`run_parity` (``statarb paper parity``) serves the recording with the replay venue as
fast as the engine reads it (``--max``, the recording's own clock) and streams it into a real
:class:`~statarb.engine.Engine` through statarb's own Binance client (trades and book tickers,
put back in exchange-time order by :class:`Sequencer`), with the pair in the book and a paper
strategy attached, on a throw-away SQLite store. Once every trade is processed it reads the paper
fills, builds the same pair's bars from the recording, runs the backtester on them with the same
settings and compares the two (:func:`statarb.paper.parity.compare`).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statarb.errors import FeedError, InputError
from statarb.paper.parity import ParityReport

if TYPE_CHECKING:
    from statarb.engine import Engine
    from statarb.ingest.binance import FeedBatch
    from statarb.protocol.binance import QuoteRow, TradeRow
    from statarb.store.base import TickStore
    from statarb.venue._data import Recording
    from statarb.venue.server import ReplayServer

#: seconds without a batch from the feed after which the run is abandoned
STALL_SECONDS = 60.0


async def paper_replay(
    files: Sequence[Path],
    a: str,
    b: str,
    timeframe: str,
    tracker: dict[str, Any],
    paper: dict[str, Any],
    store_url: str,
) -> dict[str, Any]:
    """Paper-trade ``a``/``b`` over one pass of ``files``; the fills, the strategy row, counts."""
    from statarb.config import Settings
    from statarb.engine import Engine
    from statarb.store import open_store
    from statarb.venue.server import ReplayServer

    server = ReplayServer(files, speed=None, clock="original", autoplay=False)
    await server.start()
    store = open_store(store_url)
    engine = None
    try:
        rec = server.rec
        assert rec is not None
        missing = [s for s in (a, b) if s not in rec.trades]
        if missing:
            raise InputError(f"the recording has no trades of {missing}; it has {rec.symbols}")
        total = sum(len(rec.aggs[s]) for s in rec.trades)
        settings = Settings(
            store_url=store_url,
            timeframes=[timeframe],
            binance_ws_url=server.ws_url,
            binance_rest_url=server.rest_url,
        )
        engine = Engine(settings, store)
        await engine.start()
        entry = await engine.book.add(a, b, timeframe, tracker)
        await engine.paper.start(entry.id, paper)
        await _stream(engine, server, total)
        await engine.flush()
        fills = await asyncio.to_thread(_all_fills, store, entry.id)
        row = engine.paper.strategy_row(entry.id)
        counts = dict(engine.paper.counts)
        await engine.stop()
        engine = None
        return {"fills": fills, "strategy": row, "counts": counts, "pair_id": entry.id}
    finally:
        if engine is not None:
            await engine.stop()
        await server.stop()
        store.close()


def _all_fills(store: TickStore, pair_id: int, page: int = 10_000) -> list[dict[str, Any]]:
    """Every fill of a pair (the store answers at most ``page`` rows at a time, newest first)."""
    seen: dict[str, dict[str, Any]] = {}
    end = None
    while True:
        rows = store.paper.fills(pair_id=pair_id, end=end, limit=page)
        seen.update((r["fill_id"], r) for r in rows)
        if len(rows) < page:
            return list(seen.values())
        end = int(rows[-1]["ts"])  # the page may have cut the fills of its oldest time: all of them
        tied = store.paper.fills(pair_id=pair_id, start=end, end=end + 1, limit=page)
        seen.update((r["fill_id"], r) for r in tied)


class Sequencer:
    """Trades and quotes of the feed's connections merged back into exchange-time order.

    Binance (and the venue) send trades and book tickers on different connections; at replay
    speed one may run seconds ahead of the other, which would show the paper trader a bar close
    before the quotes its orders fill on. Each connection is in time order, so everything up to
    the older of the two newest times (the watermark) is complete and is released in time order.
    """

    def __init__(self, *, quotes: bool = True) -> None:
        self.expects_quotes = quotes
        self.trades: list[TradeRow] = []
        self.quotes: list[QuoteRow] = []
        self.top_trade = self.top_quote = -1
        self.trades_in = 0

    def add(self, batch: FeedBatch) -> None:
        """Hold a batch as the feed delivered it."""
        if batch.trade_rows:
            self.trades.extend(batch.trade_rows)
            self.top_trade = max(self.top_trade, max(r[1] for r in batch.trade_rows))
            self.trades_in += len(batch.trade_rows)
        if batch.quote_rows:
            self.quotes.extend(batch.quote_rows)
            self.top_quote = max(self.top_quote, max(r[1] for r in batch.quote_rows))

    def release(self, *, final: bool = False) -> FeedBatch | None:
        """What is complete (everything when ``final``), time-ordered; None when nothing is."""
        from statarb.ingest.binance import FeedBatch

        if final:
            mark = max(self.top_trade, self.top_quote)
        elif self.expects_quotes:
            mark = min(self.top_trade, self.top_quote)
        else:
            mark = self.top_trade
        out_t = sorted((r for r in self.trades if r[1] <= mark), key=lambda r: r[1])
        out_q = sorted((r for r in self.quotes if r[1] <= mark), key=lambda r: r[1])
        if not out_t and not out_q:
            return None
        self.trades = [r for r in self.trades if r[1] > mark]
        self.quotes = [r for r in self.quotes if r[1] > mark]
        return FeedBatch(out_t, out_q)


async def _stream(engine: Engine, server: ReplayServer, total: int) -> None:
    """Feed the venue's trades and quotes to the engine in exchange-time order until the end."""
    from statarb.ingest.binance import BinanceFeed

    rec = server.rec
    assert rec is not None
    q: asyncio.Queue[FeedBatch] = asyncio.Queue(maxsize=4096)
    feed = BinanceFeed(
        rec.symbols,
        out=q,
        ws_url=server.ws_url,
        rest_url=server.rest_url,
        streams=("aggTrade", "bookTicker"),
    )
    task = asyncio.create_task(feed.run(), name="parity-feed")
    seq = Sequencer(quotes=any(len(v) for v in rec.quotes.values()))
    try:
        await _subscribed(server, rec.symbols)
        server.play()
        while not (server.done.is_set() and seq.trades_in >= total):
            try:
                batch = await asyncio.wait_for(q.get(), STALL_SECONDS)
            except TimeoutError:
                raise FeedError(
                    f"the replay stalled: {seq.trades_in} of {total} trades received"
                ) from None
            seq.add(batch)
            if (out := seq.release()) is not None:
                await engine.ingest_batch(out)
        while not q.empty():
            seq.add(q.get_nowait())
        if (out := seq.release(final=True)) is not None:
            await engine.ingest_batch(out)
    finally:
        feed.stop()
        with contextlib.suppress(Exception):
            await task


async def _subscribed(server: ReplayServer, symbols: list[str]) -> None:
    """Wait until the feed's connections carry every stream (then playback may start)."""
    from statarb.protocol.binance import stream_name

    wanted = {stream_name(s, k) for s in symbols for k in ("aggTrade", "bookTicker")}
    end = time.monotonic() + STALL_SECONDS
    while not wanted <= server.subscriptions():
        if time.monotonic() > end:
            raise FeedError(f"the feed did not subscribe {sorted(wanted - server.subscriptions())}")
        await asyncio.sleep(0.01)


def run_parity(
    files: Sequence[Path | str],
    *,
    a: str | None = None,
    b: str | None = None,
    timeframe: str = "1s",
    tracker: dict[str, Any] | None = None,
    paper: dict[str, Any] | None = None,
) -> ParityReport:
    """Paper trading over ``statarb replay`` of ``files`` against the backtest of their bars.

    ``a``/``b`` default to the recording's first two symbols; ``tracker`` are the book pair's
    settings (rolling OLS), ``paper`` the strategy's (:class:`statarb.paper.PaperSettings`).
    """
    from statarb.engine._book import tracker_settings
    from statarb.paper import paper_settings
    from statarb.venue._data import load_recording

    paths = [Path(f) for f in files]
    rec = load_recording(paths)
    syms = sorted(rec.trades)
    if (a is None or b is None) and len(syms) < 2:
        raise InputError(f"the recording has trades of {syms}: a pair needs two symbols")
    a, b = (a or syms[0]).upper(), (b or syms[1]).upper()
    missing = [s for s in (a, b) if s not in rec.trades]
    if missing:
        raise InputError(f"the recording has no trades of {missing}; it has {syms}")
    ts = tracker_settings(tracker or {}).to_dict()
    ts.pop("thresholds", None)
    ps = paper_settings(paper or {}).to_dict()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="statarb-parity-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'paper.db'}"
        run = asyncio.run(paper_replay(paths, a, b, timeframe, dict(tracker or {}), ps, url))
    wall = time.perf_counter() - t0
    report = parity_report(
        rec,
        run["fills"],
        int(run["strategy"]["position"]["last_bar"]),
        a=a,
        b=b,
        timeframe=timeframe,
        tracker=ts,
        paper=ps,
    )
    report.meta.update(
        {
            "files": [str(p) for p in paths],
            "replay_seconds": round(wall, 3),
            "paper_counts": run["counts"],
        }
    )
    return report


def parity_report(
    rec: Recording,
    fills: list[dict[str, Any]],
    last_bar: int,
    *,
    a: str,
    b: str,
    timeframe: str,
    tracker: dict[str, Any],
    paper: dict[str, Any],
) -> ParityReport:
    """The backtest of the recording's bars up to ``last_bar`` against the paper ``fills``.

    ``tracker`` and ``paper`` are complete settings dicts (``TrackerSettings.to_dict()``,
    ``PaperSettings.to_dict()``).
    """
    from statarb.backtest import run_backtest
    from statarb.paper.parity import backtest_config, compare, pair_bars

    if a not in rec.trades or b not in rec.trades:
        raise InputError(f"the recording has no trades of {a} and {b}")
    bars = pair_bars(rec.trades[a], rec.trades[b], timeframe).until(last_bar)
    cfg = backtest_config(tracker, paper, bars.step / 1e6)
    result = run_backtest(
        bars.close_y,
        bars.close_x,
        config=cfg,
        index=bars.time,
        open_y=bars.fill_y,
        open_x=bars.fill_x,
        filters={
            "lot_y": paper["lot_y"],
            "lot_x": paper["lot_x"],
            "min_notional": paper["min_notional"],
        },
    )
    report = compare(
        fills,
        bars,
        result,
        quotes=rec.quotes,
        slippage_bps=paper["slippage_bps"],
        half_spread_bps=paper["half_spread_bps"],
    )
    report.meta.update(
        {
            "a": a,
            "b": b,
            "timeframe": timeframe,
            "tracker": tracker,
            "paper": paper,
            "trades_in_recording": {s: len(rec.trades[s]) for s in (a, b)},
        }
    )
    return report


__all__ = ["Sequencer", "paper_replay", "parity_report", "run_parity"]
