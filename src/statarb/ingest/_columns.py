"""Column helpers of the CSV reader: Arrow columns to numpy, side codes, kline intervals, blocks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import pyarrow as pa

_UNITS: tuple[tuple[str, int], ...] = (
    ("w", 604_800_000_000),
    ("d", 86_400_000_000),
    ("h", 3_600_000_000),
    ("m", 60_000_000),
    ("s", 1_000_000),
    ("ms", 1_000),
)


def timeframe_name(us: int) -> str | None:
    """``60_000_000`` -> ``"1m"``; ``None`` when not a whole number of milliseconds."""
    for unit, size in _UNITS:
        if us > 0 and us % size == 0:
            return f"{us // size}{unit}"
    return None


def line_blocks(stream: IO[bytes], size: int) -> Iterator[bytes]:
    """Whole lines of a stream, about ``size`` bytes at a time (constant memory)."""
    carry = b""
    while True:
        data = stream.read(size)
        if not data:
            break
        buf = carry + data if carry else data
        cut = buf.rfind(b"\n") + 1
        if cut == 0:
            carry = buf
            continue
        carry = buf[cut:]
        yield buf[:cut]
    if carry:
        yield carry + b"\n"


def bar_duration(open_us: int, close_us: int) -> int:
    """Bar length from Binance's inclusive close time (``close - open + 1`` in ms or µs)."""
    return ((close_us - open_us) // 1000 + 1) * 1000


def column_numpy(arr: pa.Array, fill: Any) -> np.ndarray:
    """The column as numpy, nulls replaced by ``fill``.

    Fixed-width columns without nulls are viewed straight from the Arrow buffer
    (``Array.to_numpy`` would import pandas, a third of a second).
    """
    if arr.null_count:
        arr = arr.fill_null(fill)
    if pa.types.is_boolean(arr.type):
        bits = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
        return np.unpackbits(bits, bitorder="little")[arr.offset : arr.offset + len(arr)]
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        dtype = np.dtype(arr.type.to_pandas_dtype())
        return np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset : arr.offset + len(arr)]
    return np.asarray(arr.to_pylist())


def side_codes(arr: pa.Array | None, n: int) -> np.ndarray:
    if arr is None:
        return np.full(n, -1, dtype=np.int8)
    if pa.types.is_boolean(arr.type) and not arr.null_count:
        return column_numpy(arr, False).astype(np.int8)
    import pyarrow.compute as pc  # slow to import: only on the rarer paths

    if pa.types.is_boolean(arr.type):
        return column_numpy(pc.cast(arr, pa.int8()), -1).astype(np.int8)
    text = pc.utf8_lower(pc.utf8_trim_whitespace(arr.cast(pa.string())))
    sell = column_numpy(pc.is_in(text, pa.array(["sell", "s", "true", "1"])), False).astype(bool)
    buy = column_numpy(pc.is_in(text, pa.array(["buy", "b", "false", "0"])), False).astype(bool)
    return np.where(sell, 1, np.where(buy, 0, -1)).astype(np.int8)
