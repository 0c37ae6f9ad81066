"""Recorded market data prepared for replay: one time-ordered event list and its precision.

Recordings are read with :func:`statarb.ingest.files.read_file` (aggTrade or trade frames, dumps,
CSV ... anything it understands); depth frames and REST depth snapshots are read by
:mod:`._depth`. 1m klines of symbols without trades (kline CSVs such as data.binance.vision's
monthly archives, or bars handed over) become a synthesised tape (:mod:`._klines`). Raw
``trade`` recordings are aggregated the way Binance does (consecutive fills of one taker at one
price and time make one aggregate trade). The decimals of prices and quantities
come from the recording's own text (``"61800.30"`` -> ``pricePrecision`` 2), the tick and step
sizes from its values.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from statarb.errors import InputError
from statarb.model import BarBatch, QuoteBatch, TickBatch
from statarb.venue._depth import DepthTape, read_depth, synthetic_depth
from statarb.venue._klines import KlineTape, grid

KIND_TRADE = 0
KIND_QUOTE = 1
KIND_DEPTH = 2


@dataclass(frozen=True, slots=True)
class Precision:
    """How a symbol's numbers are written: decimals (``pricePrecision``) and grid (``tickSize``)."""

    price_decimals: int
    tick: float
    qty_decimals: int
    step: float

    def price(self, x: float) -> str:
        """``61800.3`` -> ``"61800.30"`` (on the tick grid, at the symbol's decimals)."""
        return f"{round(x / self.tick) * self.tick:.{self.price_decimals}f}"

    def qty(self, x: float) -> str:
        """``1.0`` -> ``"1.000"``."""
        return f"{x:.{self.qty_decimals}f}"


@dataclass(frozen=True, slots=True)
class Aggregates:
    """Binance aggregation of a symbol's trades: aggregate ``k`` is rows ``first[k]..last[k]``."""

    first: np.ndarray
    last: np.ndarray
    of_row: np.ndarray  #: aggregate number of every trade row
    id0: int  #: ``a`` of the first aggregate

    def __len__(self) -> int:
        return len(self.first)


@dataclass
class Recording:
    """Every event of the replayed files, merged in exchange-time order.

    ``kind[i]``, ``sym[i]`` (index into ``symbols``) and ``row[i]`` (row in that symbol's trade,
    quote or depth tape) describe event ``i``; ``ts`` is its exchange time (µs, non-decreasing).
    ``tapes`` holds the symbols synthesised from klines (their ``trades`` are pass 0 of the tape)
    and ``period_us``, when set, the length of one pass (whole minutes, so kline minutes stay on
    the minute grid from pass to pass).
    """

    symbols: list[str]
    trades: dict[str, TickBatch]
    quotes: dict[str, QuoteBatch]
    kind: np.ndarray
    sym: np.ndarray
    row: np.ndarray
    ts: np.ndarray
    prec: dict[str, Precision]
    aggs: dict[str, Aggregates]
    depth: dict[str, DepthTape]
    tapes: dict[str, KlineTape] = field(default_factory=dict)
    period_us: int = 0

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def duration_us(self) -> int:
        """Span of one pass (first to last event, plus 1 ms; or ``period_us`` when set)."""
        if self.period_us:
            return self.period_us
        return int(self.ts[-1] - self.ts[0]) + 1000 if len(self.ts) else 0

    def id_span(self, symbol: str) -> int:
        """How far trade ids move per loop pass."""
        ids = self.trades[symbol].trade_id
        return int(ids[-1] - ids[0] + 1) if len(ids) else 0

    def growth(self, symbol: str) -> float:
        """Last over first trade price: each loop pass is rebased by it (1 without trades, and
        for a kline tape, whose passes show further klines)."""
        b = self.trades.get(symbol)
        if b is None or not len(b) or symbol in self.tapes:
            return 1.0
        return float(b.price[-1] / b.price[0])


_SYM_RE = re.compile(rb'"s":"([A-Z0-9]+)"')
_NUM_RE = re.compile(rb'"(p|q|b|B|a|A)":"(-?\d+(?:\.(\d*))?)"')
_SNIFF_LINES = 5000


def _sniff(path: Path) -> tuple[dict[str, tuple[int, int]], set[str]]:
    """Decimals written for prices and quantities per symbol, and symbols sent as raw trades."""
    opener = gzip.open if path.suffix == ".gz" else open
    dec: dict[str, list[int]] = {}
    raw: set[str] = set()
    try:
        with opener(path, "rb") as fh:
            for n, line in enumerate(fh):
                if n >= _SNIFF_LINES:
                    break
                m = _SYM_RE.search(line)
                if m is None:
                    continue
                s = m.group(1).decode()
                d = dec.setdefault(s, [0, 0])
                for key, _num, frac in _NUM_RE.findall(line):
                    slot = 0 if key in (b"p", b"b", b"a") else 1
                    d[slot] = max(d[slot], len(frac))
                if b'"e":"trade"' in line:
                    raw.add(s)
    except (OSError, EOFError, UnicodeDecodeError):
        return {}, set()
    return {s: (v[0], v[1]) for s, v in dec.items()}, raw


def _grid_decimals(values: np.ndarray) -> int:
    for d in range(9):
        if np.allclose(np.round(values, d), values, rtol=0, atol=1e-9):
            return d
    return 8


def _precision(
    b: TickBatch | None, q: QuoteBatch | None, text: tuple[int, int] | None
) -> Precision:
    prices = b.price[:5000] if b is not None and len(b) else None
    if prices is None and q is not None and len(q):
        prices = q.bid[:5000]
    sizes = b.size[:5000] if b is not None and len(b) else None
    pd = _grid_decimals(prices) if prices is not None else 2
    qd = _grid_decimals(sizes) if sizes is not None else 3
    tpd, tqd = text if text is not None else (pd, qd)
    return Precision(max(pd, tpd), 10.0**-pd, max(qd, tqd), 10.0**-qd)


def aggregate(b: TickBatch, *, raw: bool) -> Aggregates:
    """Binance's aggregation of raw trades (same time, price and taker side in a row -> one).

    Recordings of aggregate trades are kept one row per aggregate (``a`` = their id).
    """
    n = len(b)
    if not raw or n == 0:
        idx = np.arange(n, dtype=np.int64)
        return Aggregates(idx, idx, idx, int(b.trade_id[0]) if n else 0)
    new = np.ones(n, dtype=bool)
    new[1:] = (
        (b.ts[1:] != b.ts[:-1]) | (b.price[1:] != b.price[:-1]) | (b.side[1:] != b.side[:-1])
        | (b.trade_id[1:] != b.trade_id[:-1] + 1)
    )  # fmt: skip
    first = np.flatnonzero(new).astype(np.int64)
    last = np.append(first[1:] - 1, n - 1).astype(np.int64)
    of_row = np.cumsum(new).astype(np.int64) - 1
    # aggregate ids live in their own sequence, far below the trade ids (as on Binance)
    return Aggregates(first, last, of_row, max(1, int(b.trade_id[0]) // 2))


def load_recording(
    files: Sequence[Path], *, klines: Sequence[BarBatch] = (), kline_start_us: int | None = None
) -> Recording:
    """Read files into a :class:`Recording` (trades sorted and de-duplicated by id per symbol).

    1m klines, read from ``files`` or given in ``klines``, of symbols without trades or quotes
    become kline tapes starting at the kline open at ``kline_start_us`` (default: the first).
    """
    from statarb.ingest.files import read_file

    ticks: dict[str, list[TickBatch]] = {}
    quotes: dict[str, list[QuoteBatch]] = {}
    bars: dict[str, list[BarBatch]] = {}
    text: dict[str, tuple[int, int]] = {}
    raw: set[str] = set()
    for f in files:
        for chunk in read_file(f):
            for s, b in chunk.ticks.items():
                ticks.setdefault(s, []).append(b)
            for s, q in chunk.quotes.items():
                quotes.setdefault(s, []).append(q)
            for (s, tf), bb in chunk.bars.items():
                if tf == "1m":
                    bars.setdefault(s, []).append(bb)
        dec, r = _sniff(Path(f))
        raw |= r
        for s, v in dec.items():
            old = text.get(s, (0, 0))
            text[s] = (max(old[0], v[0]), max(old[1], v[1]))
    for bb in klines:
        bars.setdefault(bb.symbol, []).append(bb)
    trades = {s: _clean_trades(TickBatch.concat(bs)) for s, bs in ticks.items()}
    qts = {s: _concat_quotes(qs) for s, qs in quotes.items()}
    depth = read_depth(files)
    prec = {s: _precision(trades.get(s), qts.get(s), text.get(s)) for s in set(trades) | set(qts)}
    tapes = _tapes(bars, trades, qts, depth, kline_start_us)
    for s, tape in tapes.items():
        trades[s] = tape.batch()
        pd, qd = tape.price_decimals, tape.qty_decimals
        prec[s] = Precision(pd, 10.0**-pd, qd, 10.0**-qd)
    symbols = sorted(set(trades) | set(qts))
    if not symbols:
        raise InputError(f"no trades, quotes or 1m klines found in {[str(f) for f in files]}")
    for s in symbols:
        if s not in depth and s in qts and len(qts[s]):
            depth[s] = synthetic_depth(qts[s], prec[s])
    aggs = {s: aggregate(b, raw=s in raw) for s, b in trades.items()}
    parts = []
    for i, s in enumerate(symbols):
        if s in trades and len(trades[s]):
            t = np.maximum.accumulate(trades[s].ts)  # keeps id order when times tie or step back
            parts.append((t, KIND_TRADE, i))
        if s in qts and len(qts[s]):
            parts.append((qts[s].ts, KIND_QUOTE, i))
        if s in depth and len(depth[s]):
            parts.append((depth[s].ts, KIND_DEPTH, i))
    ts = np.concatenate([p[0] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[1], np.int8) for p in parts])
    sym = np.concatenate([np.full(len(p[0]), p[2], np.int32) for p in parts])
    row = np.concatenate([np.arange(len(p[0]), dtype=np.int64) for p in parts])
    order = np.argsort(ts, kind="stable")
    period = next(iter(tapes.values())).minutes * 60_000_000 if tapes else 0
    return Recording(symbols, trades, qts, kind[order], sym[order], row[order], ts[order], prec,
                     aggs, depth, tapes, period)  # fmt: skip


#: klines per pass of a replay of klines alone (no tick recording sets the period)
KLINE_ONLY_MINUTES = 60


def _tapes(
    bars: dict[str, list[BarBatch]], trades: dict[str, TickBatch], qts: dict[str, QuoteBatch],
    depth: dict[str, DepthTape], start_us: int | None,
) -> dict[str, KlineTape]:  # fmt: skip
    """Kline tapes of the symbols with 1m klines and nothing else, on the recording's minutes."""
    todo = {s: _concat_bars(bs) for s, bs in bars.items() if s not in trades and s not in qts}
    if not todo:
        return {}
    times = [b.ts for b in trades.values()] + [q.ts for q in qts.values()]
    times += [d.ts for d in depth.values()]
    times = [t for t in times if len(t)]
    if times:
        t0, minutes = grid(min(int(t.min()) for t in times), max(int(t.max()) for t in times))
    else:  # klines alone: pass 0 shows them at their own times
        first = min(int(b.open_time[0]) for b in todo.values())
        t0 = first if start_us is None else max(first, start_us - start_us % 60_000_000)
        minutes = KLINE_ONLY_MINUTES
    return {s: KlineTape.build(b, t0_us=t0, minutes=minutes, start_us=start_us)
            for s, b in sorted(todo.items())}  # fmt: skip


def _concat_bars(bs: list[BarBatch]) -> BarBatch:
    """One symbol's 1m klines in open-time order, each open time once."""
    cols = ("open_time", "open", "high", "low", "close", "volume", "notional", "trades",
            "taker_buy_volume")  # fmt: skip
    a = {c: np.concatenate([getattr(b, c) for b in bs]) for c in cols}
    _, first = np.unique(a["open_time"], return_index=True)
    return BarBatch(bs[0].symbol, "1m", *(a[c][first] for c in cols))


def _clean_trades(b: TickBatch) -> TickBatch:
    if np.any(b.trade_id < 0):
        raise InputError(f"{b.symbol}: replay needs trade ids on every trade")
    _, first = np.unique(b.trade_id, return_index=True)
    return b.take(first)  # np.unique sorts by id


def _concat_quotes(qs: list[QuoteBatch]) -> QuoteBatch:
    cols = ("ts", "bid", "bid_size", "ask", "ask_size", "update_id")
    arrays = {c: np.concatenate([getattr(x, c) for x in qs]) for c in cols}
    order = np.argsort(arrays["ts"], kind="stable")
    a = {c: v[order] for c, v in arrays.items()}
    return QuoteBatch(qs[0].symbol, a["ts"], a["bid"], a["bid_size"], a["ask"], a["ask_size"],
                      a["update_id"])  # fmt: skip


__all__ = [
    "KIND_DEPTH",
    "KIND_QUOTE",
    "KIND_TRADE",
    "KLINE_ONLY_MINUTES",
    "Aggregates",
    "Precision",
    "Recording",
    "aggregate",
    "load_recording",
]
