"""Value types shared by every layer: Tick, Quote, Bar, Timeframe and their columnar batches.

Timestamps are epoch **microseconds** UTC (``int``; ``int64`` arrays in batches). Prices and sizes
are floats. Single events (:class:`Tick`, :class:`Quote`, :class:`Bar`) are small frozen records for
the live path and the API; batches (:class:`TickBatch`, :class:`QuoteBatch`, :class:`BarBatch`) hold
one symbol's columns as numpy arrays for the store, import and analytics, where per-row Python
objects would be too slow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from statarb._typing import Float64Array, Int8Array, Int64Array
from statarb.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: ``side`` codes in :class:`TickBatch`: the buyer was the maker (the taker sold), the buyer was
#: the taker (the taker bought), or unknown.
SIDE_BUYER_MAKER = 1
SIDE_BUYER_TAKER = 0
SIDE_UNKNOWN = -1
#: ``trade_id`` / ``update_id`` value meaning "the source gave no id".
NO_ID = -1


# --------------------------------------------------------------------------------------------
# Timeframe
# --------------------------------------------------------------------------------------------
_TF_RE = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$")
_TF_UNIT_US = {
    "ms": 1_000,
    "s": 1_000_000,
    "m": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
    "w": 604_800_000_000,
}
_TF_MAX_US = 3660 * 86_400_000_000  # ten years: open times stay far inside int64


@dataclass(frozen=True, slots=True)
class Timeframe:
    """A bar interval aligned to the UTC epoch, e.g. ``Timeframe.parse("5m")``.

    Attributes
    ----------
    name
        Canonical text, e.g. ``"1m"``, ``"30s"``, ``"4h"``.
    us
        Length in microseconds.
    """

    name: str
    us: int

    @classmethod
    def parse(cls, text: str | Timeframe) -> Timeframe:
        """Parse ``"1s"``, ``"1m"``, ``"15m"``, ``"1h"``, ``"4h"``, ``"1d"``, ``"250ms"`` ...

        Raises
        ------
        InputError
            When the text is not ``<positive integer><ms|s|m|h|d|w>`` of at most ten years.
        """
        if isinstance(text, Timeframe):
            return text
        m = _TF_RE.match(str(text))
        n = int(m.group(1)) if m and len(m.group(1)) <= 20 else 0
        if not m or n <= 0 or n * _TF_UNIT_US[m.group(2)] > _TF_MAX_US:
            raise InputError(
                f"timeframe {str(text)[:40]!r} is not valid; use a positive count and a unit "
                "ms, s, m, h, d or w of at most ten years, e.g. 1s, 30s, 1m, 5m, 15m, 1h, 4h, 1d"
            )
        unit = m.group(2)
        return cls(f"{n}{unit}", n * _TF_UNIT_US[unit])

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return self.us / 1_000_000

    @property
    def pandas_freq(self) -> str:
        """The equivalent pandas offset alias (``"1min"``, ``"30s"``, ``"4h"`` ...)."""
        return f"{self.us}us"

    def floor(self, ts: int) -> int:
        """Open time (epoch µs) of the bar holding ``ts``."""
        return ts - ts % self.us

    def __str__(self) -> str:
        return self.name


STANDARD_TIMEFRAMES: tuple[str, ...] = ("1s", "1m", "5m", "15m", "1h")


# --------------------------------------------------------------------------------------------
# Single events
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Tick:
    """One trade.

    Attributes
    ----------
    symbol
        Upper-case instrument, e.g. ``"BTCUSDT"``.
    ts
        Exchange (trade) time, epoch µs UTC.
    price, size
        Trade price and quantity (base units).
    is_buyer_maker
        ``True`` when the buyer was the maker (the taker sold); ``None`` when unknown.
    trade_id
        The exchange's trade id (aggregate trade id ``a`` for Binance aggTrades), if any.
    source
        Where the tick came from (``"binance"``, ``"file:<name>"``, ``"api"`` ...).
    recv_ts
        Local receipt time, epoch µs UTC, if known.
    """

    symbol: str
    ts: int
    price: float
    size: float
    is_buyer_maker: bool | None = None
    trade_id: int | None = None
    source: str = ""
    recv_ts: int | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """Best bid and ask (Binance ``bookTicker``)."""

    symbol: str
    ts: int
    bid: float
    bid_size: float
    ask: float
    ask_size: float
    update_id: int | None = None
    recv_ts: int | None = None


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar; ``open_time`` is the epoch-µs start of the interval."""

    symbol: str
    timeframe: str
    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    notional: float
    trades: int
    taker_buy_volume: float = 0.0

    @property
    def vwap(self) -> float:
        """Volume-weighted average price (NaN for a bar without volume)."""
        return self.notional / self.volume if self.volume else float("nan")


# --------------------------------------------------------------------------------------------
# Columnar batches
# --------------------------------------------------------------------------------------------
def _i64(a: Any) -> Int64Array:
    return np.ascontiguousarray(a, dtype=np.int64)


def _f64(a: Any) -> Float64Array:
    return np.ascontiguousarray(a, dtype=np.float64)


def _side_code(is_buyer_maker: bool | None) -> int:
    return SIDE_UNKNOWN if is_buyer_maker is None else int(is_buyer_maker)


@dataclass(frozen=True, eq=False)
class TickBatch:
    """One symbol's ticks as columns.

    ``side`` holds :data:`SIDE_BUYER_MAKER`, :data:`SIDE_BUYER_TAKER` or :data:`SIDE_UNKNOWN`;
    ``trade_id`` holds :data:`NO_ID` where the source had none; ``recv_ts`` is 0 where unknown.
    """

    symbol: str
    ts: Int64Array
    price: Float64Array
    size: Float64Array
    side: Int8Array = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    trade_id: Int64Array = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    recv_ts: Int64Array = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.ts)
        object.__setattr__(self, "ts", _i64(self.ts))
        object.__setattr__(self, "price", _f64(self.price))
        object.__setattr__(self, "size", _f64(self.size))
        if len(self.side) == 0 and n:
            object.__setattr__(self, "side", np.full(n, SIDE_UNKNOWN, dtype=np.int8))
        else:
            object.__setattr__(self, "side", np.ascontiguousarray(self.side, dtype=np.int8))
        if len(self.trade_id) == 0 and n:
            object.__setattr__(self, "trade_id", np.full(n, NO_ID, dtype=np.int64))
        else:
            object.__setattr__(self, "trade_id", _i64(self.trade_id))
        if len(self.recv_ts) == 0 and n:
            object.__setattr__(self, "recv_ts", np.zeros(n, dtype=np.int64))
        else:
            object.__setattr__(self, "recv_ts", _i64(self.recv_ts))
        for name in ("price", "size", "side", "trade_id", "recv_ts"):
            if len(getattr(self, name)) != n:
                raise InputError(
                    f"TickBatch column {name!r} has {len(getattr(self, name))} rows, ts has {n}"
                )

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls, symbol: str, source: str = "") -> TickBatch:
        """A batch with no rows."""
        i, f = np.empty(0, np.int64), np.empty(0)
        return cls(symbol, i, f, f, source=source)

    @classmethod
    def from_ticks(cls, ticks: Sequence[Tick]) -> dict[str, TickBatch]:
        """Group ticks by symbol into batches (order kept within each symbol)."""
        groups: dict[str, list[Tick]] = {}
        for t in ticks:
            groups.setdefault(t.symbol, []).append(t)
        out = {}
        for sym, ts in groups.items():
            out[sym] = cls(
                sym,
                np.fromiter((t.ts for t in ts), np.int64, len(ts)),
                np.fromiter((t.price for t in ts), np.float64, len(ts)),
                np.fromiter((t.size for t in ts), np.float64, len(ts)),
                np.fromiter(
                    (
                        SIDE_UNKNOWN if t.is_buyer_maker is None else int(t.is_buyer_maker)
                        for t in ts
                    ),
                    np.int8,
                    len(ts),
                ),
                np.fromiter(
                    (NO_ID if t.trade_id is None else t.trade_id for t in ts), np.int64, len(ts)
                ),
                np.fromiter((t.recv_ts or 0 for t in ts), np.int64, len(ts)),
                source=ts[0].source,
            )
        return out

    def to_ticks(self) -> list[Tick]:
        """The rows as :class:`Tick` objects (for the live path and the API; slow for millions)."""
        out = []
        for ts, p, q, s, tid, r in zip(
            self.ts.tolist(),
            self.price.tolist(),
            self.size.tolist(),
            self.side.tolist(),
            self.trade_id.tolist(),
            self.recv_ts.tolist(),
            strict=True,
        ):
            out.append(
                Tick(
                    self.symbol,
                    ts,
                    p,
                    q,
                    None if s == SIDE_UNKNOWN else bool(s),
                    None if tid == NO_ID else tid,
                    self.source,
                    r or None,
                )
            )
        return out

    def take(self, index: Any) -> TickBatch:
        """Rows selected by a slice, boolean mask or integer index array."""
        return replace(
            self,
            ts=self.ts[index],
            price=self.price[index],
            size=self.size[index],
            side=self.side[index],
            trade_id=self.trade_id[index],
            recv_ts=self.recv_ts[index],
        )

    @classmethod
    def concat(cls, batches: Iterable[TickBatch]) -> TickBatch:
        """Join batches of one symbol, in the given order."""
        bs = list(batches)
        if not bs:
            raise InputError("TickBatch.concat needs at least one batch")
        syms = {b.symbol for b in bs}
        if len(syms) != 1:
            raise InputError(f"TickBatch.concat got several symbols: {sorted(syms)}")
        return cls(
            bs[0].symbol,
            np.concatenate([b.ts for b in bs]),
            np.concatenate([b.price for b in bs]),
            np.concatenate([b.size for b in bs]),
            np.concatenate([b.side for b in bs]),
            np.concatenate([b.trade_id for b in bs]),
            np.concatenate([b.recv_ts for b in bs]),
            source=bs[0].source,
        )

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame indexed by UTC time with columns price, size, side, trade_id."""
        import pandas as pd

        idx = pd.DatetimeIndex(self.ts.astype("datetime64[us]"), name="time").tz_localize("UTC")
        return pd.DataFrame(
            {
                "price": self.price,
                "size": self.size,
                "side": self.side,
                "trade_id": self.trade_id,
            },
            index=idx,
        )


@dataclass(frozen=True, eq=False)
class QuoteBatch:
    """One symbol's best bid/ask updates as columns (``update_id`` is :data:`NO_ID` if absent)."""

    symbol: str
    ts: Int64Array
    bid: Float64Array
    bid_size: Float64Array
    ask: Float64Array
    ask_size: Float64Array
    update_id: Int64Array = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.ts)
        object.__setattr__(self, "ts", _i64(self.ts))
        for name in ("bid", "bid_size", "ask", "ask_size"):
            object.__setattr__(self, name, _f64(getattr(self, name)))
        if len(self.update_id) == 0 and n:
            object.__setattr__(self, "update_id", np.full(n, NO_ID, dtype=np.int64))
        else:
            object.__setattr__(self, "update_id", _i64(self.update_id))
        for name in ("bid", "bid_size", "ask", "ask_size", "update_id"):
            if len(getattr(self, name)) != n:
                raise InputError(f"QuoteBatch column {name!r} has a different length from ts")

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls, symbol: str, source: str = "") -> QuoteBatch:
        """A batch with no rows."""
        i, f = np.empty(0, np.int64), np.empty(0)
        return cls(symbol, i, f, f, f, f, source=source)


BAR_COLUMNS: tuple[str, ...] = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "notional",
    "trades",
    "taker_buy_volume",
)


@dataclass(frozen=True, eq=False)
class BarBatch:
    """One symbol's bars of one timeframe as columns; ``open_time`` in epoch µs, ascending."""

    symbol: str
    timeframe: str
    open_time: Int64Array
    open: Float64Array
    high: Float64Array
    low: Float64Array
    close: Float64Array
    volume: Float64Array
    notional: Float64Array
    trades: Int64Array
    taker_buy_volume: Float64Array

    def __post_init__(self) -> None:
        n = len(self.open_time)
        object.__setattr__(self, "timeframe", Timeframe.parse(self.timeframe).name)
        object.__setattr__(self, "open_time", _i64(self.open_time))
        object.__setattr__(self, "trades", _i64(self.trades))
        for name in ("open", "high", "low", "close", "volume", "notional", "taker_buy_volume"):
            object.__setattr__(self, name, _f64(getattr(self, name)))
        for f in fields(self)[2:]:
            if len(getattr(self, f.name)) != n:
                raise InputError(f"BarBatch column {f.name!r} has a different length")

    def __len__(self) -> int:
        return len(self.open_time)

    @classmethod
    def empty(cls, symbol: str, timeframe: str) -> BarBatch:
        """A batch with no rows."""
        i, f = np.empty(0, np.int64), np.empty(0)
        return cls(symbol, timeframe, i, f, f, f, f, f, f, i, f)

    @property
    def vwap(self) -> Float64Array:
        """Volume-weighted average price per bar (NaN where volume is 0)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.volume > 0, self.notional / self.volume, np.nan)

    def take(self, index: Any) -> BarBatch:
        """Rows selected by a slice, boolean mask or integer index array."""
        return BarBatch(
            self.symbol,
            self.timeframe,
            *(getattr(self, f.name)[index] for f in fields(self)[2:]),
        )

    def to_bars(self) -> list[Bar]:
        """The rows as :class:`Bar` objects."""
        cols = [getattr(self, f.name).tolist() for f in fields(self)[2:]]
        return [Bar(self.symbol, self.timeframe, *row) for row in zip(*cols, strict=True)]

    @classmethod
    def from_bars(cls, bars: Sequence[Bar]) -> BarBatch:
        """Bars of one symbol and timeframe to columns."""
        if not bars:
            raise InputError("BarBatch.from_bars needs at least one bar")
        names = [f.name for f in fields(cls)[2:]]
        cols: dict[str, Any] = {n: np.asarray([getattr(b, n) for b in bars]) for n in names}
        return cls(bars[0].symbol, bars[0].timeframe, **cols)

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame indexed by UTC open time with the :data:`BAR_COLUMNS`."""
        import pandas as pd

        idx = pd.DatetimeIndex(self.open_time.astype("datetime64[us]"), name="time").tz_localize(
            "UTC"
        )
        return pd.DataFrame({c: getattr(self, c) for c in BAR_COLUMNS}, index=idx)

    @classmethod
    def from_frame(cls, symbol: str, timeframe: str, frame: pd.DataFrame) -> BarBatch:
        """Inverse of :meth:`to_frame` (index: UTC DatetimeIndex of open times)."""
        import pandas as pd

        idx = pd.DatetimeIndex(frame.index)
        if idx.tz is None:
            raise InputError("bar frame index must be time-zone aware (UTC)")
        open_time = idx.tz_convert("UTC").as_unit("us").asi8
        return cls(symbol, timeframe, open_time, *(frame[c].to_numpy() for c in BAR_COLUMNS))


__all__ = [
    "BAR_COLUMNS",
    "NO_ID",
    "SIDE_BUYER_MAKER",
    "SIDE_BUYER_TAKER",
    "SIDE_UNKNOWN",
    "STANDARD_TIMEFRAMES",
    "Bar",
    "BarBatch",
    "Quote",
    "QuoteBatch",
    "Tick",
    "TickBatch",
    "Timeframe",
]
